//! The shared event log: a Redis stream capped at about N entries
//! (`XADD MAXLEN ~`), whose entry ids are `ID-0` for SSE id `ID` from one
//! counter (started at the time in ms when the log begins, as the in-process
//! log does), so every replica numbers events alike and a browser can resume
//! with `Last-Event-ID` on any replica. Publishing also announces the event
//! on a channel that every replica's subscriber forwards to its streams.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use tokio::sync::broadcast;

use super::RedisState;
use crate::events::{BusMessage, BusUnavailable, LiveEvent, Published, Replay};

/// The shared log.
#[derive(Debug)]
pub struct RedisLog {
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
            publish: Script::new(include_str!("../../../policy/src/shared_state/publish.lua")),
        }
    }

    /// This replica's fan-out, fed by its subscriber.
    pub fn fanout(&self) -> broadcast::Sender<BusMessage> {
        self.state.live.clone()
    }

    /// Logs and announces one event, unless `dedup` was seen within `window`.
    pub async fn publish(
        &self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
    ) -> Result<Published, BusUnavailable> {
        let mut conn = self.state.conn();
        let result = self
            .publish
            .key(self.state.key("events:seq"))
            .key(self.state.key("events:log"))
            .key(self.state.key(&format!("events:seen:{dedup}")))
            .arg(event)
            .arg(data)
            .arg(self.capacity)
            .arg(self.state.key("events"))
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1))
            .invoke_async::<u64>(&mut conn)
            .await;
        match self.state.track(result) {
            Ok(0) => Ok(Published::Duplicate),
            Ok(id) => Ok(Published::Event(id)),
            Err(_) => Err(BusUnavailable),
        }
    }

    /// The logged events after `last`.
    pub async fn replay_after(&self, last: Option<u64>) -> Result<Replay, BusUnavailable> {
        let start = last.map_or_else(|| "-".to_owned(), |id| format!("({id}-0"));
        let mut conn = self.state.conn();
        let result = redis::pipe()
            .get(self.state.key("events:seq"))
            .cmd("XRANGE")
            .arg(self.state.key("events:log"))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(self.capacity + 100)
            .query_async::<(Option<u64>, Vec<(String, Vec<String>)>)>(&mut conn)
            .await;
        let (latest, entries) = self.state.track(result).map_err(|_| BusUnavailable)?;
        let latest = latest.unwrap_or(0);
        let events: Vec<Arc<LiveEvent>> = entries.into_iter().filter_map(decode_entry).collect();
        // `last == 0`: the client saw an empty log, so it missed nothing before
        // the first event (whose id starts at the time the log began).
        let truncated = last.is_some_and(|last| {
            let first = events.first().map_or(latest + 1, |e| e.id);
            (last > 0 && last + 1 < first) || last > latest
        });
        Ok(Replay {
            events,
            truncated,
            latest,
        })
    }

    /// The newest id.
    pub async fn latest(&self) -> Result<u64, BusUnavailable> {
        let mut conn = self.state.conn();
        let result = redis::cmd("GET")
            .arg(self.state.key("events:seq"))
            .query_async::<Option<u64>>(&mut conn)
            .await;
        self.state
            .track(result)
            .map(|id| id.unwrap_or(0))
            .map_err(|_| BusUnavailable)
    }
}

/// A stream entry `ID-0 [event E data D]` as an event.
fn decode_entry((id, fields): (String, Vec<String>)) -> Option<Arc<LiveEvent>> {
    let id = id.split('-').next()?.parse().ok()?;
    let mut event = None;
    let mut data = None;
    for pair in fields.chunks(2) {
        match pair {
            [name, value] if name == "event" => event = Some(value.clone()),
            [name, value] if name == "data" => data = Some(value.clone()),
            _ => {}
        }
    }
    Some(Arc::new(LiveEvent {
        id,
        event: event?,
        data: data?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_entries_decode_into_events() {
        let entry = (
            "42-0".to_owned(),
            vec![
                "event".into(),
                "response.created".into(),
                "data".into(),
                "{}".into(),
            ],
        );
        let event = decode_entry(entry).unwrap();
        assert_eq!(
            (event.id, event.event.as_str(), event.data.as_str()),
            (42, "response.created", "{}")
        );
        assert!(decode_entry(("x-0".into(), vec![])).is_none());
        assert!(decode_entry(("1-0".into(), vec!["event".into()])).is_none());
    }
}
