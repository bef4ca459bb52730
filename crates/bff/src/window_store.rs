//! Where the rate window lives: in this process ([`SlidingWindow`], the
//! default) or in Redis, shared by every replica ([`RedisWindow`]).

use std::time::Duration;

use crate::limiter::{Refused, SlidingWindow};
use crate::redis_state::window::RedisWindow;

/// Why the window gave no turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefusal {
    /// The wait would exceed the request's budget.
    Full(Refused),
    /// The shared window is unreachable: no turn can be granted safely, so
    /// none is (fail closed).
    Unavailable,
}

/// The rate window in front of the upstream.
#[derive(Debug)]
pub enum WindowStore {
    /// In-process: one replica only.
    Local(SlidingWindow),
    /// In Redis: every replica with the same key shares it.
    Redis(RedisWindow),
}

impl WindowStore {
    /// Waits for a turn to send, at most `budget`; returns how long it waited.
    pub async fn acquire(&self, budget: Duration) -> Result<Duration, WindowRefusal> {
        match self {
            Self::Local(window) => window.acquire(budget).await.map_err(WindowRefusal::Full),
            Self::Redis(window) => window.acquire(budget).await,
        }
    }

    /// Stops admitting for `duration` (an upstream `429` said `Retry-After`).
    pub async fn pause(&self, duration: Duration) {
        match self {
            Self::Local(window) => window.pause(duration),
            Self::Redis(window) => window.pause(duration).await,
        }
    }
}
