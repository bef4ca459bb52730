//! The sliding window shared by every replica: `window.lua` over sorted sets,
//! so that the count of sends within `window + margin` never exceeds the
//! rate, whichever replicas send, and waiters are admitted in the order they
//! arrived, whichever replica they wait on.
//!
//! A waiter takes a ticket (`INCR`) and joins a queue sorted by ticket; only
//! the head may take a send slot, and only when the window has room and no
//! upstream pause is in force. Each call of the script also says how long the
//! caller should sleep before asking again (the policy's [`shared_nap`]). A
//! waiter renews a lease each time it asks; a replica that dies leaves
//! tickets that expire with their leases, so the queue never stalls behind
//! them. Times are Redis's own (`TIME`), so the replicas' clocks do not matter.

use std::sync::Arc;
use std::time::Duration;

use conferbot::RateSpec;
use conferbot_policy::shared_state::{keys, scripts};
use conferbot_policy::window::{default_span, shared_nap, WindowRefusal, LEASE};
use redis::Script;
use tokio::time::Instant;

use crate::redis_state::RedisState;

/// The shared window of one API key.
#[derive(Debug)]
pub(crate) struct RedisWindow {
    state: Arc<RedisState>,
    spec: RateSpec,
    span: Duration,
    keys: [String; 5],
    acquire: Script,
    pause: Script,
}

impl RedisWindow {
    /// The window for `spec`, with the same margin as the in-process one.
    pub(crate) fn new(state: Arc<RedisState>, spec: RateSpec) -> Self {
        Self {
            keys: keys::WINDOW_KEYS.map(|k| state.key(k)),
            state,
            spec,
            span: default_span(spec),
            acquire: Script::new(scripts::WINDOW),
            pause: Script::new(scripts::PAUSE),
        }
    }

    /// Waits for a turn, at most `budget`; returns how long it waited.
    pub(crate) async fn acquire(&self, budget: Duration) -> Result<Duration, WindowRefusal> {
        let start = Instant::now();
        let deadline = start + budget;
        let mut ticket = Ticket {
            state: Arc::clone(&self.state),
            keys: [self.state.key(keys::QUEUE), self.state.key(keys::LEASES)],
            number: 0,
        };
        loop {
            let mut invocation = self.acquire.prepare_invoke();
            for key in &self.keys {
                invocation.key(key);
            }
            invocation
                .arg(ticket.number)
                .arg(self.spec.max)
                .arg(millis(self.span))
                .arg(millis(LEASE));
            let mut conn = self.state.conn();
            let reply = invocation
                .invoke_async::<(i64, i64, i64, i64)>(&mut conn)
                .await;
            let (admitted, wait_ms, rank, number) = self
                .state
                .track(reply)
                .map_err(|_| WindowRefusal::Unavailable)?;
            ticket.number = number;
            if admitted == 1 {
                ticket.number = 0;
                return Ok(start.elapsed());
            }
            let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
            let now = Instant::now();
            if now + wait > deadline {
                return Err(WindowRefusal::Full { retry_after: wait });
            }
            let rank = u64::try_from(rank).unwrap_or(0);
            let nap = shared_nap(wait, rank, self.spec.max, deadline - now);
            tokio::time::sleep(nap).await;
        }
    }

    /// Stops every replica admitting for `duration` (an upstream `429`).
    pub(crate) async fn pause(&self, duration: Duration) {
        let mut conn = self.state.conn();
        let result = self
            .pause
            .key(self.state.key(keys::PAUSE))
            .arg(millis(duration).max(1))
            .invoke_async::<i64>(&mut conn)
            .await;
        if self.state.track(result).is_err() {
            tracing::warn!("could not share an upstream pause: redis unreachable");
        }
    }
}

/// A ticket in the queue; leaving without a turn (refused, or the request
/// went away) takes it out at once instead of waiting for its lease to end.
struct Ticket {
    state: Arc<RedisState>,
    keys: [String; 2],
    number: i64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.number == 0 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut conn = self.state.conn();
        let [queue, leases] = self.keys.clone();
        let number = self.number;
        runtime.spawn(async move {
            let _: redis::RedisResult<()> = redis::pipe()
                .zrem(queue, number)
                .ignore()
                .zrem(leases, number)
                .ignore()
                .query_async(&mut conn)
                .await;
        });
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
