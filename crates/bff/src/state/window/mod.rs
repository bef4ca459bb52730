//! The rate window in front of the upstream, behind one interface: in this
//! process ([`local`], the default) or in Redis, shared by every replica with
//! the same key ([`redis`]). Both run the policy's rules
//! ([`conferbot_policy::window`]: fair between clients, each paced to its
//! share, with per-client monthly caps): the local one its state machine,
//! the shared one `window.lua` in Redis.

pub(crate) mod local;
pub(crate) mod redis;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conferbot_policy::client::ClientId;
use conferbot_policy::quota_headers::MinuteView;
use conferbot_policy::window::WindowRefusal;

use local::LocalWindow;
use redis::RedisWindow;

/// The rate window in front of the upstream.
#[derive(Debug)]
pub(crate) enum WindowStore {
    /// In-process: one replica only.
    Local(LocalWindow),
    /// In Redis: every replica with the same key shares it.
    Redis(RedisWindow),
}

impl WindowStore {
    /// Waits for a turn to send on behalf of `client`, at most `budget`;
    /// returns how long it waited. Dropping the future leaves the queue
    /// without taking a turn.
    pub(crate) async fn acquire(
        &self,
        client: &ClientId,
        budget: Duration,
    ) -> Result<Duration, WindowRefusal> {
        match self {
            Self::Local(window) => window.acquire(client, budget).await,
            Self::Redis(window) => window.acquire(client, budget).await,
        }
    }

    /// What the window would admit now, when it lives in this process (the
    /// shared one is read with the month's quota).
    pub(crate) fn room(&self) -> Option<MinuteView> {
        match self {
            Self::Local(window) => Some(window.room()),
            Self::Redis(_) => None,
        }
    }

    /// Stops admitting for `duration` (an upstream `429` said `Retry-After`).
    pub(crate) async fn pause(&self, duration: Duration) {
        match self {
            Self::Local(window) => window.pause(duration),
            Self::Redis(window) => window.pause(duration).await,
        }
    }
}

/// Unix seconds now: the calendar month of the monthly caps.
fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
