//! Live events: accepted webhook deliveries, numbered and kept in a bounded
//! log, fanned out to browsers over Server-Sent Events.
//!
//! An event's id increases by one per event, so a stream sees a gap when it
//! missed some (a lagging consumer, a lost pub/sub connection) and fills it
//! from the log; a browser that reconnects with `Last-Event-ID` gets what it
//! missed the same way. The log is in this process by default ([`local`]),
//! or a capped Redis stream shared by every replica (`--redis`).
//!
//! - [`local`]: the in-process log.
//! - [`sse`]: `GET {mount}/events`.

pub mod local;
pub mod sse;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::redis_state::events::RedisLog;
use local::LocalLog;

/// Capacity of the in-process fan-out to SSE streams; a stream further behind
/// gets `Lagged` and resyncs from the log.
const FANOUT: usize = 1024;

/// One event, as browsers get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    /// The SSE `id:`, one more than the previous event's.
    pub id: u64,
    /// The SSE `event:`, the webhook event's name (`response.created`).
    pub event: String,
    /// The SSE `data:`, the delivery body as compact JSON.
    pub data: String,
}

/// What SSE streams hear.
#[derive(Debug, Clone)]
pub enum BusMessage {
    /// A new event.
    Event(Arc<LiveEvent>),
    /// Events may have been missed (the shared log's connection was back):
    /// each stream fills its gap from the log.
    Resync,
}

/// Events after some id, from the log.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The events, oldest first.
    pub events: Vec<Arc<LiveEvent>>,
    /// Whether some of the events asked for are no longer in the log.
    pub truncated: bool,
    /// The newest id there is (0: none yet).
    pub latest: u64,
}

/// What publishing came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Logged and fanned out with this id.
    Event(u64),
    /// The same delivery (same signature) was published already: a sender's
    /// retry whose first attempt got through. Not published again.
    Duplicate,
}

/// The shared log is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusUnavailable;

/// The event log and its fan-out.
#[derive(Debug)]
pub struct EventBus {
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
    pub fn local(capacity: usize) -> Self {
        let (live, _) = broadcast::channel(FANOUT);
        Self {
            live,
            log: Log::Local(LocalLog::new(capacity)),
        }
    }

    /// The shared log; events reach this replica's streams through its
    /// subscriber, whichever replica published them.
    pub fn redis(log: RedisLog) -> Self {
        Self {
            live: log.fanout(),
            log: Log::Redis(log),
        }
    }

    /// Logs and fans out one event, unless `dedup` (the delivery's signature)
    /// was seen within `window`.
    pub async fn publish(
        &self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
    ) -> Result<Published, BusUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.publish(&self.live, event, data, dedup, window)),
            Log::Redis(log) => log.publish(event, data, dedup, window).await,
        }
    }

    /// New events and resync requests, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.live.subscribe()
    }

    /// The logged events after `last` (all there are when `None`).
    pub async fn replay_after(&self, last: Option<u64>) -> Result<Replay, BusUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.replay_after(last)),
            Log::Redis(log) => log.replay_after(last).await,
        }
    }

    /// The newest id (0: none yet).
    pub async fn latest(&self) -> Result<u64, BusUnavailable> {
        match &self.log {
            Log::Local(log) => Ok(log.latest()),
            Log::Redis(log) => log.latest().await,
        }
    }
}
