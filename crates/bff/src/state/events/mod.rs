//! The event log and its fan-out to SSE streams, behind one interface: in
//! this process ([`local`], the default) or a capped Redis stream shared by
//! every replica ([`redis`], `--redis`). Numbering, dedup and what a replay
//! lost are the policy's ([`conferbot_policy::event_log`]).

pub(crate) mod local;
pub(crate) mod redis;

use std::time::Duration;

use conferbot_policy::event_log::{BusMessage, LogUnavailable, Published, Replay};
use tokio::sync::broadcast;

use local::LocalLog;
use redis::RedisLog;

/// Capacity of the in-process fan-out to SSE streams; a stream further behind
/// gets `Lagged` and resyncs from the log.
const FANOUT: usize = 1024;

/// The event log and its fan-out.
#[derive(Debug)]
pub(crate) struct EventBus {
    live: broadcast::Sender<BusMessage>,
    log: Log,
}

#[derive(Debug)]
enum Log {
    Local(LocalLog),
    Redis(RedisLog),
}

impl EventBus {
    /// An in-process log keeping the last `capacity` events.
    pub(crate) fn local(capacity: usize) -> Self {
        let (live, _) = broadcast::channel(FANOUT);
        Self {
            live,
            log: Log::Local(LocalLog::new(capacity)),
        }
    }

    /// The shared log; events reach this replica's streams through its
    /// subscriber, whichever replica published them.
    pub(crate) fn redis(log: RedisLog) -> Self {
        Self {
            live: log.fanout(),
            log: Log::Redis(log),
        }
    }

    /// Logs and fans out one event, unless `dedup` (the delivery's identity)
    /// was seen within `window`.
    pub(crate) async fn publish(
        &self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
    ) -> Result<Published, LogUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.publish(&self.live, event, data, dedup, window)),
            Log::Redis(log) => log.publish(event, data, dedup, window).await,
        }
    }

    /// New events and resync requests, from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.live.subscribe()
    }

    /// The logged events after `last` (all there are when `None`).
    pub(crate) async fn replay_after(&self, last: Option<u64>) -> Result<Replay, LogUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.replay_after(last)),
            Log::Redis(log) => log.replay_after(last).await,
        }
    }

    /// The newest id (0: none yet).
    pub(crate) async fn latest(&self) -> Result<u64, LogUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.latest()),
            Log::Redis(log) => log.latest().await,
        }
    }
}
