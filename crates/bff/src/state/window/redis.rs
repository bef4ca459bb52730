//! The sliding window shared by every replica: `window.lua` over sorted sets,
//! so that the count of sends within `window + margin` never exceeds the
//! rate, whichever replicas send, and clients are served fairly (in turn,
//! each paced to its share, each under its monthly cap), whichever replica
//! they wait on: the rules of the policy's [`conferbot_policy::window`].
//!
//! A waiter takes a ticket (`INCR`) and joins its client's queue (a sorted
//! set per client, so a call costs O(waiting clients), however many
//! requests one client queues), its member naming its client. Each call of the script grants the free slots
//! to whoever's turn it is (a turn granted to a waiter of another replica is
//! taken at that waiter's next call), and tells the caller whether it was
//! admitted, when it likely will be, and when to ask again (the policy's
//! [`shared_nap`]). A waiter renews a lease each time it asks; a replica
//! that dies leaves tickets that expire with their leases (a turn granted to
//! them is given back), so the queue never stalls behind them. Times are
//! Redis's own (`TIME`), so the replicas' clocks do not matter.

use std::sync::Arc;
use std::time::Duration;

use conferbot::RateSpec;
use conferbot_policy::client::ClientId;
use conferbot_policy::shared_state::{keys, scripts};
use conferbot_policy::spend::{month_of, until_next_month, Spent};
use conferbot_policy::window::{default_span, shared_nap, Share, WindowRefusal, LEASE};
use redis::Script;
use tokio::time::Instant;

use crate::redis_state::RedisState;

/// How long a month's spend counter outlives the month (clock skew).
const SPEND_GRACE: Duration = Duration::from_secs(86_400);

/// The shared window of one API key.
#[derive(Debug)]
pub(crate) struct RedisWindow {
    state: Arc<RedisState>,
    spec: RateSpec,
    span: Duration,
    share: Share,
    monthly_cap: Option<u64>,
    keys: [String; 8],
    acquire: Script,
    leave: Script,
    pause: Script,
}

impl RedisWindow {
    /// The window for `spec`, with the same margin, share and monthly cap
    /// rules as the in-process one.
    pub(crate) fn new(
        state: Arc<RedisState>,
        spec: RateSpec,
        share_percent: u8,
        monthly_cap: Option<u64>,
    ) -> Self {
        let span = default_span(spec);
        let max = usize::try_from(spec.max.max(1)).unwrap_or(usize::MAX);
        Self {
            keys: keys::WINDOW_KEYS.map(|k| state.key(k)),
            state,
            spec,
            span,
            share: Share::of(share_percent, max, millis(span)),
            monthly_cap,
            acquire: Script::new(scripts::WINDOW),
            leave: Script::new(scripts::LEAVE),
            pause: Script::new(scripts::PAUSE),
        }
    }

    /// Waits for a turn for `client`, at most `budget`; returns how long it
    /// waited.
    pub(crate) async fn acquire(
        &self,
        client: &ClientId,
        budget: Duration,
    ) -> Result<Duration, WindowRefusal> {
        let start = Instant::now();
        let deadline = start + budget;
        let unix = super::unix_secs();
        let spend_prefix = self.state.key(&keys::spend_prefix(&month_of(unix)));
        let mut ticket = Ticket {
            state: Arc::clone(&self.state),
            leave: self.leave.clone(),
            keys: keys::LEAVE_KEYS.map(|k| self.state.key(k)),
            member: String::new(),
            spend_key: self
                .monthly_cap
                .map(|_| format!("{spend_prefix}{client}"))
                .unwrap_or_default(),
            own_prefix: self.state.key(""),
        };
        let spend_ttl = millis(until_next_month(unix) + SPEND_GRACE);
        let own_prefix = self.state.key("");
        loop {
            let mut invocation = self.acquire.prepare_invoke();
            for key in &self.keys {
                invocation.key(key);
            }
            invocation
                .arg(&ticket.member)
                .arg(client.as_str())
                .arg(self.spec.max)
                .arg(millis(self.span))
                .arg(self.share.slots)
                .arg(self.share.span)
                .arg(millis(LEASE))
                .arg(&spend_prefix)
                .arg(self.monthly_cap.unwrap_or(0))
                .arg(spend_ttl)
                .arg(&own_prefix);
            let mut conn = self.state.conn();
            let reply = invocation
                .invoke_async::<(i64, i64, i64, String)>(&mut conn)
                .await;
            let (status, estimate_ms, wake_ms, member) = self
                .state
                .track(reply)
                .map_err(|_| WindowRefusal::Unavailable)?;
            match status {
                1 => {
                    ticket.member.clear();
                    return Ok(start.elapsed());
                }
                -1 => {
                    return Err(WindowRefusal::ClientSpent(Spent {
                        cap: self.monthly_cap.unwrap_or(0),
                        retry_after: until_next_month(unix),
                    }))
                }
                _ => ticket.member = member,
            }
            let estimate = Duration::from_millis(u64::try_from(estimate_ms).unwrap_or(0));
            let now = Instant::now();
            if now + estimate > deadline {
                return Err(WindowRefusal::Full {
                    retry_after: estimate,
                });
            }
            let wake = Duration::from_millis(u64::try_from(wake_ms).unwrap_or(0));
            tokio::time::sleep(shared_nap(wake, deadline - now)).await;
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
/// went away) takes it out at once instead of waiting for its lease to end,
/// giving back a turn granted to it and its monthly reservation.
struct Ticket {
    state: Arc<RedisState>,
    leave: Script,
    keys: [String; 4],
    /// `ticket:client`; empty before the first ask and once the turn is taken.
    member: String,
    /// The client's spend counter this month; empty without a cap.
    spend_key: String,
    /// The prefix of per-client keys.
    own_prefix: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.member.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut conn = self.state.conn();
        let keys = self.keys.clone();
        let member = std::mem::take(&mut self.member);
        let spend_key = std::mem::take(&mut self.spend_key);
        let own_prefix = std::mem::take(&mut self.own_prefix);
        let script = self.leave.clone();
        runtime.spawn(async move {
            let mut leave = script.prepare_invoke();
            for key in &keys {
                leave.key(key);
            }
            let _: redis::RedisResult<i64> = leave
                .arg(member)
                .arg(spend_key)
                .arg(own_prefix)
                .invoke_async(&mut conn)
                .await;
        });
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
