//! Forwarding through the rate window: queue, call, and honour upstream 429s.
//!
//! Every upstream call takes a turn in the [`WindowStore`] first, within the
//! `--queue-wait` budget. If the upstream still answers `429` (another client
//! shares the key, or its clock runs differently), the window is paused for
//! its `Retry-After` and the call is repeated once the pause ends, if that is
//! within the budget (the policy's [`pause_after_429`] and
//! [`repeat_after_429`]). Otherwise the `429` goes back with its
//! `Retry-After`. When the window is shared and Redis is unreachable, nothing
//! is sent: the request is answered `503` (fail closed).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use conferbot_policy::client::ClientId;
use conferbot_policy::window::{pause_after_429, repeat_after_429, WindowRefusal};
use conferbot_policy::{BffError, Target};
use tokio::time::Instant;

use crate::answer::UpstreamAnswer;
use crate::metrics::Metrics;
use crate::state::window::WindowStore;
use crate::upstream::Upstream;

/// The upstream client behind the rate window.
#[derive(Debug)]
pub(crate) struct Forwarder {
    upstream: Upstream,
    window: WindowStore,
    queue_wait: Duration,
    metrics: Arc<Metrics>,
}

impl Forwarder {
    /// Calls through `window`, waiting at most `queue_wait` per request.
    pub(crate) fn new(
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

    /// Sends `target` upstream when the window allows it, the turn taken on
    /// behalf of `client` (fairness, monthly caps).
    pub(crate) async fn forward(
        &self,
        target: &Target,
        body: Option<&Bytes>,
        client: &ClientId,
    ) -> Result<UpstreamAnswer, BffError> {
        let route = target.operation.name();
        let deadline = Instant::now() + self.queue_wait;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let budget = deadline.saturating_duration_since(Instant::now());
            match self.window.acquire(client, budget).await {
                Ok(waited) => self.metrics.queue_wait(waited),
                Err(refusal) => {
                    match refusal {
                        WindowRefusal::Full { .. } | WindowRefusal::ClientSpent(_) => {
                            self.metrics.queue_refused();
                        }
                        WindowRefusal::Unavailable => self.metrics.shared_state_refused(),
                    }
                    return Err(refusal.into());
                }
            }
            let (result, latency) = self.upstream.send(target, body).await;
            let status = result.as_ref().map_or(0, |a| a.status.as_u16());
            self.metrics.upstream_call(route, status, latency);
            let answer = result?;
            if status != 429 {
                return Ok(answer);
            }
            let pause = pause_after_429(answer.retry_after);
            self.window.pause(pause).await;
            tracing::warn!(
                route,
                pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                "upstream answered 429; rate window paused"
            );
            let left = deadline.checked_duration_since(Instant::now());
            if !left.is_some_and(|left| repeat_after_429(attempt, pause, left)) {
                return Ok(answer);
            }
        }
    }
}
