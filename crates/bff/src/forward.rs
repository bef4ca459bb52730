//! Forwarding through the rate window: queue, call, and honour upstream 429s.
//!
//! Every upstream call takes a turn in the [`WindowStore`] first, within the
//! `--queue-wait` budget. If the upstream still answers `429` (another client
//! shares the key, or its clock runs differently), the window is paused for
//! its `Retry-After` and the call is repeated once the pause ends, if that is
//! within the budget: a `429` means the upstream did not act, so repeating is
//! safe for writes too. Otherwise the `429` goes back with its `Retry-After`.
//! When the window is shared and Redis is unreachable, nothing is sent: the
//! request is answered `503` (fail closed).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::error::BffError;
use crate::metrics::Metrics;
use crate::routing::Target;
use crate::upstream::{Upstream, UpstreamAnswer};
use crate::window_store::{WindowRefusal, WindowStore};

/// Upstream calls per request at most (the first and two after 429s).
const MAX_ATTEMPTS: u32 = 3;
/// Longest pause an upstream `429` imposes: a monthly-quota answer may ask
/// for days, and the BFF must recover by itself once the quota is raised.
const MAX_PAUSE: Duration = Duration::from_secs(300);
/// Pause when a `429` comes without a usable `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// The upstream client behind the rate window.
#[derive(Debug)]
pub struct Forwarder {
    upstream: Upstream,
    window: WindowStore,
    queue_wait: Duration,
    metrics: Arc<Metrics>,
}

impl Forwarder {
    /// Calls through `window`, waiting at most `queue_wait` per request.
    pub fn new(
        upstream: Upstream,
        window: WindowStore,
        queue_wait: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            upstream,
            window,
            queue_wait,
            metrics,
        }
    }

    /// Sends `target` upstream when the window allows it.
    pub async fn forward(
        &self,
        target: &Target,
        body: Option<&Bytes>,
    ) -> Result<UpstreamAnswer, BffError> {
        let route = target.operation.name();
        let deadline = Instant::now() + self.queue_wait;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let budget = deadline.saturating_duration_since(Instant::now());
            match self.window.acquire(budget).await {
                Ok(waited) => self.metrics.queue_wait(waited),
                Err(WindowRefusal::Full(refused)) => {
                    self.metrics.queue_refused();
                    return Err(BffError::QueueTimeout {
                        retry_after: refused.retry_after,
                    });
                }
                Err(WindowRefusal::Unavailable) => {
                    self.metrics.shared_state_refused();
                    return Err(BffError::SharedStateUnavailable);
                }
            }
            let (result, latency) = self.upstream.send(target, body).await;
            let status = result.as_ref().map_or(0, |a| a.status.as_u16());
            self.metrics.upstream_call(route, status, latency);
            let answer = result?;
            if status != 429 {
                return Ok(answer);
            }
            let pause = answer
                .retry_after
                .map_or(DEFAULT_PAUSE, Duration::from_secs)
                .min(MAX_PAUSE);
            self.window.pause(pause).await;
            tracing::warn!(
                route,
                pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                "upstream answered 429; rate window paused"
            );
            if attempt >= MAX_ATTEMPTS || Instant::now() + pause > deadline {
                return Ok(answer);
            }
        }
    }
}
