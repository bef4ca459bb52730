//! `/metrics` in the Prometheus text format, written by hand from atomics and
//! small maps: the handful of series here do not justify a metrics framework.
//!
//! Labels are operation names from the endpoint table (`listChatbots`) or
//! `unmatched`, never raw paths, so an attacker cannot grow the series set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Label of requests that matched no operation.
pub const UNMATCHED: &str = "unmatched";

/// How a GET answer was obtained, as the `x-cache` header says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the cache: no upstream call.
    Hit,
    /// This request made the upstream call.
    Miss,
    /// Shared the answer of an identical request already in flight.
    Coalesced,
}

impl CacheStatus {
    /// The `x-cache` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Coalesced => "coalesced",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| secs <= bound) {
            if let Some(bucket) = self.buckets.get(i) {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Every number `/metrics` shows.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    upstream_calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    cache: Mutex<BTreeMap<&'static str, u64>>,
    queue_refused: AtomicU64,
    queue_wait: Histogram,
    upstream_latency: Histogram,
}

impl Metrics {
    /// A request answered with `status`, by route label.
    pub fn request(&self, route: &'static str, status: u16) {
        bump(&self.requests, (route, status));
    }

    /// An upstream call and its status (`0` when no answer came).
    pub fn upstream_call(&self, route: &'static str, status: u16, latency: Duration) {
        bump(&self.upstream_calls, (route, status));
        self.upstream_latency.observe(latency);
    }

    /// How a GET was served.
    pub fn cache(&self, status: CacheStatus) {
        bump(&self.cache, status.as_str());
    }

    /// Time a request spent queued for the rate window.
    pub fn queue_wait(&self, waited: Duration) {
        self.queue_wait.observe(waited);
    }

    /// A request the queue refused (answered 429 by the BFF).
    pub fn queue_refused(&self) {
        self.queue_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        render_pairs(
            &mut out,
            "conferbot_bff_requests_total",
            "Requests under the mount, by operation and answered status.",
            &self.requests,
        );
        render_pairs(
            &mut out,
            "conferbot_bff_upstream_calls_total",
            "Calls made to the upstream API, by operation and its status (0: no answer).",
            &self.upstream_calls,
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_cache_total GET requests by how they were served.\n# TYPE conferbot_bff_cache_total counter"
        );
        let cache = self.cache.lock().map(|m| m.clone()).unwrap_or_default();
        for result in ["hit", "miss", "coalesced"] {
            let n = cache.get(result).copied().unwrap_or(0);
            let _ = writeln!(out, "conferbot_bff_cache_total{{result=\"{result}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_queue_refused_total Requests refused because the rate queue was too long.\n# TYPE conferbot_bff_queue_refused_total counter\nconferbot_bff_queue_refused_total {}",
            self.queue_refused.load(Ordering::Relaxed)
        );
        self.queue_wait.render(
            &mut out,
            "conferbot_bff_queue_wait_seconds",
            "Time requests waited for the upstream rate window.",
        );
        self.upstream_latency.render(
            &mut out,
            "conferbot_bff_upstream_latency_seconds",
            "Latency of upstream calls.",
        );
        out
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_insert(0) += 1;
    }
}

fn render_pairs(
    out: &mut String,
    name: &str,
    help: &str,
    map: &Mutex<BTreeMap<(&'static str, u16), u64>>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let map = map.lock().map(|m| m.clone()).unwrap_or_default();
    for ((route, status), n) in map {
        let _ = writeln!(out, "{name}{{route=\"{route}\",status=\"{status}\"}} {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("listChatbots", 200);
        m.request("listChatbots", 200);
        m.request(UNMATCHED, 404);
        m.upstream_call("listChatbots", 200, Duration::from_millis(30));
        m.cache(CacheStatus::Miss);
        m.cache(CacheStatus::Coalesced);
        m.queue_wait(Duration::from_millis(1_500));
        let text = m.render();
        for line in [
            "conferbot_bff_requests_total{route=\"listChatbots\",status=\"200\"} 2",
            "conferbot_bff_requests_total{route=\"unmatched\",status=\"404\"} 1",
            "conferbot_bff_upstream_calls_total{route=\"listChatbots\",status=\"200\"} 1",
            "conferbot_bff_cache_total{result=\"hit\"} 0",
            "conferbot_bff_cache_total{result=\"coalesced\"} 1",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"1\"} 0",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"2.5\"} 1",
            "conferbot_bff_queue_wait_seconds_count 1",
            "conferbot_bff_upstream_latency_seconds_bucket{le=\"0.05\"} 1",
            "conferbot_bff_upstream_latency_seconds_sum 0.03",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
