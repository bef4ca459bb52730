//! The legitimate client: `GET /healthz`, each over a new connection from
//! 127.0.0.1 (the connection-level attacks are about being let in at all),
//! timed from `connect` to the end of the answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::sockets::{exchange, get, loopback};

/// How long one legitimate request may take before it counts as failed.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(10);

/// Latencies of a series of legitimate requests.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Milliseconds of each answered request (status 200).
    pub ms: Vec<f64>,
    /// Requests not answered 200 within [`REQUEST_LIMIT`].
    pub failed: usize,
}

impl Latencies {
    /// The `p`th percentile (0..=100), nearest rank; `None` with no samples.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let mut sorted = self.ms.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
            .copied()
    }

    /// p50, p99 and counts, as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "p50Ms": self.percentile(50.0), "p99Ms": self.percentile(99.0),
            "maxMs": self.percentile(100.0), "answered": self.ms.len(), "failed": self.failed,
        })
    }
}

/// One legitimate request: its latency if it was answered 200.
pub async fn once(addr: SocketAddr) -> Option<Duration> {
    let started = Instant::now();
    let answer = exchange(loopback(1), addr, &get("/healthz"), REQUEST_LIMIT)
        .await
        .ok()?;
    (answer.status == Some(200)).then(|| started.elapsed())
}

/// `count` legitimate requests, one after another, `pause` apart.
pub async fn series(addr: SocketAddr, count: usize, pause: Duration) -> Latencies {
    let mut latencies = Latencies::default();
    for _ in 0..count {
        match once(addr).await {
            Some(took) => latencies.ms.push(took.as_secs_f64() * 1000.0),
            None => latencies.failed += 1,
        }
        tokio::time::sleep(pause).await;
    }
    latencies
}
