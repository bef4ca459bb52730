//! The event log and its fan-out to SSE streams, behind one interface: in
//! this process ([`local`], the default) or a capped Redis stream shared by
//! every replica ([`redis`], `--redis`). Numbering, dedup and what a replay
//! lost are the policy's ([`conferbot_policy::event_log`]).

pub(crate) mod local;
pub(crate) mod redis;
mod relay;

use std::time::Duration;

use conferbot::Operation;
use conferbot_policy::event_log::{BusMessage, LogUnavailable, Published, Replay};
use conferbot_policy::shared_state::changes::HeldChange;
use tokio::sync::broadcast;

use local::LocalLog;
use redis::RedisLog;

/// Capacity of the in-process fan-out to SSE streams; a stream further behind
/// gets `Lagged` and resyncs from the log.
const FANOUT: usize = 1024;

/// What a delivery changes in the cache, applied with its publication.
pub(crate) enum Changes<'a> {
    /// In this process: applied under the log's lock when the delivery is new.
    Local(Box<dyn FnOnce() + Send + 'a>),
    /// In Redis: the patches and marks of the held answers, and the
    /// operations whose reads in flight must not be stored.
    Shared {
        /// The held answers to change.
        held: &'a [HeldChange],
        /// The operations touched.
        touched: &'a [Operation],
    },
}

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

    /// Applies a delivery's changes, logs and fans out its event, unless
    /// `dedup` (the delivery's identity) was seen within `window`: a delivery
    /// is applied once, however many retries arrive, on however many
    /// replicas.
    pub(crate) async fn publish(
        &self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
        changes: Changes<'_>,
    ) -> Result<Published, LogUnavailable> {
        match (&self.log, changes) {
            (Log::Local(log), Changes::Local(apply)) => {
                Ok(log.publish(&self.live, event, data, dedup, window, apply))
            }
            (Log::Redis(log), Changes::Shared { held, touched }) => {
                log.publish(event, data, dedup, window, held, touched).await
            }
            (Log::Local(log), Changes::Shared { .. }) => {
                Ok(log.publish(&self.live, event, data, dedup, window, || {}))
            }
            (Log::Redis(log), Changes::Local(_)) => {
                log.publish(event, data, dedup, window, &[], &[]).await
            }
        }
    }

    /// New events and resync requests, from now on: on a connection
    /// worker through its relay ([`relay`]), elsewhere from the bus itself.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        relay::subscribe(&self.live, FANOUT).unwrap_or_else(|| self.live.subscribe())
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
