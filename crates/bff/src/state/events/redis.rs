//! The shared event log: a Redis stream capped at about N entries
//! (`XADD MAXLEN ~`), whose entry ids are `ID-0` for SSE id `ID` from one
//! counter (started at the time in ms when the log begins, as the in-process
//! log does), so every replica numbers events alike and a browser can resume
//! with `Last-Event-ID` on any replica. Publishing also announces the event
//! on a channel that every replica's subscriber forwards to its streams.

use std::sync::Arc;
use std::time::Duration;

use conferbot::Operation;
use conferbot_policy::event_log::{
    replay_truncated, BusMessage, LiveEvent, LogUnavailable, Published, Replay,
};
use conferbot_policy::shared_state::changes::HeldChange;
use conferbot_policy::shared_state::wire::decode_entry;
use conferbot_policy::shared_state::{keys, scripts};
use redis::Script;
use tokio::sync::broadcast;

use crate::redis_state::RedisState;

/// The shared log.
#[derive(Debug)]
pub(crate) struct RedisLog {
    state: Arc<RedisState>,
    capacity: usize,
    publish: Script,
}

impl RedisLog {
    /// A log keeping about the last `capacity` events.
    pub fn new(state: Arc<RedisState>, capacity: usize) -> Self {
        Self {
            state,
            capacity: capacity.max(1),
            publish: Script::new(scripts::PUBLISH),
        }
    }

    /// This replica's fan-out, fed by its subscriber.
    pub fn fanout(&self) -> broadcast::Sender<BusMessage> {
        self.state.live.clone()
    }

    /// Applies `changes` to the shared cache (bumping the generations of
    /// `touched`), logs and announces one event, all in one step and only
    /// if `dedup` was not seen within `window`: every replica that receives
    /// a sender's retries applies the delivery once between them.
    pub(crate) async fn publish(
        &self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
        changes: &[HeldChange],
        touched: &[Operation],
    ) -> Result<Published, LogUnavailable> {
        let mut invocation = self.publish.prepare_invoke();
        invocation
            .key(self.state.key(keys::EVENTS_SEQ))
            .key(self.state.key(keys::EVENTS_LOG))
            .key(self.state.key(&keys::events_seen(dedup)));
        for change in changes {
            invocation.key(self.state.key(&keys::cache(&change.key)));
        }
        for operation in touched {
            invocation.key(self.state.key(&keys::generation(*operation)));
        }
        invocation
            .arg(event)
            .arg(data)
            .arg(self.capacity)
            .arg(self.state.key(keys::EVENTS_CHANNEL))
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg(changes.len())
            .arg(touched.len());
        for change in changes {
            invocation
                .arg(&change.read)
                .arg(change.patched.as_deref().unwrap_or(""));
        }
        let mut conn = self.state.conn();
        let result = invocation.invoke_async::<u64>(&mut conn).await;
        match self.state.track(result) {
            Ok(0) => Ok(Published::Duplicate),
            Ok(id) => Ok(Published::Event(id)),
            Err(_) => Err(LogUnavailable),
        }
    }

    /// The logged events after `last`.
    pub(crate) async fn replay_after(&self, last: Option<u64>) -> Result<Replay, LogUnavailable> {
        let start = last.map_or_else(|| "-".to_owned(), |id| format!("({id}-0"));
        let mut conn = self.state.conn();
        let result = redis::pipe()
            .get(self.state.key(keys::EVENTS_SEQ))
            .cmd("XRANGE")
            .arg(self.state.key(keys::EVENTS_LOG))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(self.capacity + 100)
            .query_async::<(Option<u64>, Vec<(String, Vec<String>)>)>(&mut conn)
            .await;
        let (latest, entries) = self.state.track(result).map_err(|_| LogUnavailable)?;
        let latest = latest.unwrap_or(0);
        let events: Vec<Arc<LiveEvent>> = entries.into_iter().filter_map(decode_entry).collect();
        let first = events.first().map_or(latest + 1, |e| e.id);
        let truncated = replay_truncated(last, first, latest);
        Ok(Replay {
            events,
            truncated,
            latest,
        })
    }

    /// The newest id.
    pub(crate) async fn latest(&self) -> Result<u64, LogUnavailable> {
        let mut conn = self.state.conn();
        let result = redis::cmd("GET")
            .arg(self.state.key(keys::EVENTS_SEQ))
            .query_async::<Option<u64>>(&mut conn)
            .await;
        self.state
            .track(result)
            .map(|id| id.unwrap_or(0))
            .map_err(|_| LogUnavailable)
    }
}
