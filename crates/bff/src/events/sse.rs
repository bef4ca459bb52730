//! `GET {mount}/events`: Server-Sent Events for browsers (`EventSource`).
//!
//! The stream opens with a `retry:` hint, then sends one SSE event per
//! accepted webhook delivery: `id:` (increasing by one), `event:` the webhook
//! event (`response.created`), `data:` the delivery body as compact JSON
//! (`{"event","timestamp","data"}`). Idle streams get a `: keepalive` comment
//! every `--sse-heartbeat` so proxies keep them open.
//!
//! With `Last-Event-ID` (sent by `EventSource` when it reconnects), the events
//! after that id are replayed from the log first. When some are no longer
//! there (the log keeps the last `--event-replay`), or the stream fell behind
//! and the log cannot fill the gap, an `event: resync` is sent: the page
//! should reload what it shows. If the log cannot be read at all, the stream
//! ends, and the browser reconnects with `Last-Event-ID` after `retry`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::{BusMessage, EventBus, LiveEvent, Replay};
use crate::app::AppState;
use crate::metrics::Metrics;

/// The `event:` name that tells a page it missed events it cannot get back
/// (the core's fact, which the client recognises).
pub use conferbot::RESYNC_EVENT;

/// Heartbeat and reconnection settings of the streams.
#[derive(Debug, Clone, Copy)]
pub struct SseSettings {
    /// Interval of `: keepalive` comments on idle streams.
    pub heartbeat: Duration,
    /// The `retry:` hint.
    pub retry: Duration,
}

/// Axum handler for `GET {mount}/events`.
pub async fn events(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bus = Arc::clone(&state.events);
    // Listen first, then read the log: an event in between is in both, and
    // is sent once (ids at or below the last one sent are skipped).
    let rx = bus.subscribe();
    let mut feed = Feed {
        bus,
        rx,
        pending: VecDeque::new(),
        last_sent: None,
        closing: state.closing.subscribe(),
        retry: Some(state.sse.retry),
        client: ClientGuard::enter(Arc::clone(&state.metrics)),
    };
    match last_event_id {
        Some(last) => {
            if let Ok(replay) = feed.bus.replay_after(Some(last)).await {
                feed.last_sent = Some(last.min(replay.latest));
                feed.queue(replay);
            }
        }
        None => feed.last_sent = feed.bus.latest().await.ok(),
    }
    let keep_alive = KeepAlive::new()
        .interval(state.sse.heartbeat)
        .text("keepalive");
    let mut response = Sse::new(stream::unfold(feed, Feed::next))
        .keep_alive(keep_alive)
        .into_response();
    // nginx and friends: do not buffer this answer.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

enum Item {
    Event(Arc<LiveEvent>),
    Resync,
}

/// One browser's stream.
struct Feed {
    bus: Arc<EventBus>,
    rx: broadcast::Receiver<BusMessage>,
    pending: VecDeque<Item>,
    /// The id of the last event sent (or the newest when the stream began);
    /// `None` when unknown (the shared log was unreachable at the start).
    last_sent: Option<u64>,
    closing: watch::Receiver<bool>,
    retry: Option<Duration>,
    client: ClientGuard,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if let Some(retry) = self.retry.take() {
            return Some((Ok(Event::default().retry(retry)), self));
        }
        loop {
            match self.pending.pop_front() {
                Some(Item::Resync) => {
                    let event = Event::default().event(RESYNC_EVENT).data(
                        r#"{"reason":"some events were missed and are no longer kept; reload the data"}"#,
                    );
                    return Some((Ok(event), self));
                }
                Some(Item::Event(event)) => {
                    if self.last_sent.is_some_and(|last| event.id <= last) {
                        continue;
                    }
                    self.last_sent = Some(event.id);
                    self.client.metrics.sse_event_sent();
                    let sse = Event::default()
                        .id(event.id.to_string())
                        .event(event.event.as_str())
                        .data(event.data.as_str());
                    return Some((Ok(sse), self));
                }
                None => {}
            }
            let message = tokio::select! {
                _ = self.closing.wait_for(|closing| *closing) => return None,
                message = self.rx.recv() => message,
            };
            match message {
                Ok(BusMessage::Event(event)) => {
                    if self.last_sent.is_some_and(|last| event.id > last + 1) {
                        self.fill_gap().await?;
                    }
                    self.pending.push_back(Item::Event(event));
                }
                Ok(BusMessage::Resync) | Err(RecvError::Lagged(_)) => {
                    if self.last_sent.is_some() {
                        self.fill_gap().await?;
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Queues what the log has after the last event sent; `None` ends the
    /// stream when the log cannot be read (the browser will reconnect).
    async fn fill_gap(&mut self) -> Option<()> {
        let replay = self.bus.replay_after(self.last_sent).await.ok()?;
        self.queue(replay);
        Some(())
    }

    fn queue(&mut self, replay: Replay) {
        if replay.truncated {
            self.pending.push_back(Item::Resync);
        }
        self.pending
            .extend(replay.events.into_iter().map(Item::Event));
    }
}

/// Counts a connected stream for as long as it lives.
struct ClientGuard {
    metrics: Arc<Metrics>,
}

impl ClientGuard {
    fn enter(metrics: Arc<Metrics>) -> Self {
        metrics.sse_clients(1);
        Self { metrics }
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.metrics.sse_clients(-1);
    }
}
