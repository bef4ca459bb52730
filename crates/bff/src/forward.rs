//! Forwarding through the rate window: queue, call, and honour upstream 429s.
//!
//! Every upstream call takes a turn in the [`WindowStore`] first, within the
//! `--queue-wait` budget, on behalf of its client (the window is fair between
//! clients, paces each to `--client-share` and caps each at
//! `--client-monthly-calls`). If the upstream still answers `429` (another client
//! shares the key, or its clock runs differently), the window is paused for
//! its `Retry-After` and the call is repeated once the pause ends, if that is
//! within the budget (the policy's [`pause_after_429`] and
//! [`repeat_after_429`]). Otherwise the `429` goes back with its
//! `Retry-After`. When the window is shared and Redis is unreachable, nothing
//! is sent: the request is answered `503` (fail closed).
//!
//! The month's quota is kept here too ([`QuotaStore`]): no call is made that
//! the month's quota or the `--monthly-budget` would refuse (the request is
//! answered `429` "Monthly API limit reached" until the month turns); every
//! call the upstream counts is counted, every `getUsage` answer teaches the
//! month's use, every `Date` header the upstream's clock, and a monthly
//! refusal (which no pause of the minute window would help) stops calls
//! until its `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use conferbot::protocol::api::MONTHLY_LIMIT_ERROR;
use conferbot::{ApiErrorBody, Operation};
use conferbot_policy::client::ClientId;
use conferbot_policy::window::{pause_after_429, repeat_after_429, WindowRefusal};
use conferbot_policy::{BffError, Target};
use tokio::time::Instant;

use crate::answer::UpstreamAnswer;
use crate::metrics::Metrics;
use crate::state::quota::QuotaStore;
use crate::state::window::WindowStore;
use crate::upstream::Upstream;

/// The upstream client behind the rate window.
#[derive(Debug)]
pub(crate) struct Forwarder {
    upstream: Upstream,
    window: WindowStore,
    quota: Arc<QuotaStore>,
    queue_wait: Duration,
    metrics: Arc<Metrics>,
}

impl Forwarder {
    /// Calls through `window`, waiting at most `queue_wait` per request.
    pub(crate) fn new(
        upstream: Upstream,
        window: WindowStore,
        quota: Arc<QuotaStore>,
        queue_wait: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            upstream,
            window,
            quota,
            queue_wait,
            metrics,
        }
    }

    /// The rate window (for the quota headers).
    pub(crate) fn window(&self) -> &WindowStore {
        &self.window
    }

    /// Sends `target` upstream when the month's quota and the window allow
    /// it, the turn taken on behalf of `client` (fairness, monthly caps):
    /// the BFF's month first (spent: nobody's turn is taken), then the
    /// client's own cap and its share, at the window.
    pub(crate) async fn forward(
        &self,
        target: &Target,
        body: Option<&Bytes>,
        client: &ClientId,
    ) -> Result<UpstreamAnswer, BffError> {
        if let Some(refused) = self.quota.refusal() {
            return Err(refused);
        }
        let route = target.operation.name();
        let deadline = Instant::now() + self.queue_wait;
        let mut attempt = 0;
        let mut queued = Duration::ZERO;
        loop {
            attempt += 1;
            let budget = deadline.saturating_duration_since(Instant::now());
            match self.window.acquire(client, budget).await {
                Ok(waited) => {
                    queued += waited;
                    self.metrics.queue_wait(waited);
                }
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
            // The month may have been spent while this request waited (the
            // budget reached by the calls ahead of it, or a monthly refusal):
            // then its turn goes unused rather than on a call that would be
            // refused.
            if let Some(refused) = self.quota.refusal() {
                return Err(refused);
            }
            let (result, latency) = self.upstream.send(target, body).await;
            let status = result.as_ref().map_or(0, |a| a.status.as_u16());
            self.metrics.upstream_call(route, status, latency);
            let mut answer = result?;
            answer.queued_ms = Some(u64::try_from(queued.as_millis()).unwrap_or(u64::MAX));
            let monthly = is_monthly_refusal(&answer);
            self.account(target, &answer, monthly).await;
            if status != 429 || monthly {
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

    /// What an answer teaches of the month: counted (as the upstream counts:
    /// not its `401`, `403` and `429` refusals), learnt from, and the
    /// upstream's clock and monthly refusal.
    async fn account(&self, target: &Target, answer: &UpstreamAnswer, monthly: bool) {
        if let Some(date) = &answer.date {
            self.quota.learn_clock(date).await;
        }
        if !matches!(answer.status.as_u16(), 401 | 403 | 429) {
            self.quota.count_call().await;
        }
        if target.operation == Operation::GetUsage && answer.is_success() {
            self.quota.learn(&answer.body).await;
        }
        if monthly {
            tracing::warn!(
                retry_after = answer.retry_after,
                "the upstream refused for the month: no call until it turns"
            );
            self.quota.refused_for_month(answer.retry_after).await;
        }
    }
}

/// Whether `answer` is the upstream's refusal for the month (a `429`
/// "Monthly API limit reached").
fn is_monthly_refusal(answer: &UpstreamAnswer) -> bool {
    answer.status.as_u16() == 429
        && serde_json::from_slice::<ApiErrorBody>(&answer.body)
            .is_ok_and(|body| body.error == MONTHLY_LIMIT_ERROR)
}
