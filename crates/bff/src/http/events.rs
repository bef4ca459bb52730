//! `GET {mount}/events`: Server-Sent Events for browsers (`EventSource`).
//!
//! The policy frames every byte ([`conferbot_policy::sse`]): a `retry:` hint
//! first, one event per accepted webhook delivery (`id:`, `event:`, `data:`),
//! `: keepalive` comments on idle streams, `event: resync` when events were
//! lost for good; and its [`Cursor`] decides which events to send, skip or
//! fill in from the log. This handler feeds it from the event bus: with
//! `Last-Event-ID` the events after that id are replayed from the log first;
//! a stream that falls behind fills its gap from the log; if the log cannot
//! be read at all, the stream ends and the browser reconnects with
//! `Last-Event-ID` after `retry`.
//!
//! Streams are capped ([`crate::connection::slots`]): at most
//! `--max-sse-streams` open at once (`503` past that) and
//! `--max-sse-streams-per-ip` from one client address (`429`), both with
//! `Retry-After`, which the package's `client.events()` waits for.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use conferbot_policy::event_log::{BusMessage, LiveEvent, Replay};
use conferbot_policy::route::require_method;
use conferbot_policy::sse::{
    event_frame, last_event_id, resync_frame, retry_frame, Cursor, KEEPALIVE, RESPONSE_HEADERS,
};
use conferbot_policy::BffError;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{sleep_until, Instant};

use super::access::Client;
use super::respond::{self, Headers};
use crate::connection::slots::{ClientAddr, Refused, Slot};
use crate::context::AppState;
use crate::metrics::Metrics;
use crate::state::events::EventBus;

/// Axum handler for `{mount}/events`: `GET` only (`405` otherwise).
pub(crate) async fn stream(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let mut response = open(&state, request).await;
    super::quota::under_mount(&state, &mut response);
    response
}

/// The stream, or why it is refused.
async fn open(state: &Arc<AppState>, request: Request) -> Response {
    if let Err(err) = require_method(request.method().as_str(), conferbot::Method::Get) {
        return respond::error(&err);
    }
    // The client's address as identified (behind `--trusted-proxy`, from
    // `X-Forwarded-For`, so that clients behind one proxy are not capped as
    // one), else the peer's. None when the app is driven without a socket
    // (tests): the total cap holds.
    let addr = request
        .extensions()
        .get::<Client>()
        .and_then(|client| client.ip)
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip())
        })
        .map(ClientAddr::of);
    let slot = match state.sse_slots.take(addr) {
        Ok(slot) => slot,
        Err(Refused::Full) => return respond::error(&BffError::Overloaded("event streams")),
        Err(Refused::PerAddress) => {
            return respond::error(&BffError::ClientLimit {
                what: "event streams",
                limit: state.sse_slots.per_address(),
            })
        }
    };
    let last_event_id = last_event_id(&Headers(request.headers()));
    let bus = Arc::clone(&state.events);
    // Listen first, then read the log: an event in between is in both, and
    // is sent once (the cursor skips ids already sent).
    let rx = bus.subscribe();
    let mut feed = Feed {
        bus,
        rx,
        pending: VecDeque::new(),
        cursor: Cursor::at_latest(None),
        closing: state.closing.subscribe(),
        retry: Some(state.sse_retry),
        heartbeat: state.sse_heartbeat,
        quiet_until: Instant::now() + state.sse_heartbeat,
        client: ClientGuard::enter(Arc::clone(&state.metrics)),
        frames: Arc::clone(&state.sse_frames),
        _slot: slot,
    };
    match last_event_id {
        Some(last) => {
            if let Ok(replay) = feed.bus.replay_after(Some(last)).await {
                feed.cursor = Cursor::resuming(last, replay.latest);
                feed.queue(replay);
            }
        }
        None => feed.cursor = Cursor::at_latest(feed.bus.latest().await.ok()),
    }
    let mut response = Response::new(Body::from_stream(stream::unfold(feed, Feed::next)));
    let headers = response.headers_mut();
    for (name, value) in RESPONSE_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
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
    cursor: Cursor,
    closing: watch::Receiver<bool>,
    /// The `retry:` hint, until it is sent.
    retry: Option<Duration>,
    heartbeat: Duration,
    /// When the next keepalive is due, unless something is sent first.
    quiet_until: Instant,
    client: ClientGuard,
    /// The latest event's frame, shared by every stream.
    frames: Arc<FrameCache>,
    /// The stream's place under the caps, given back when it ends.
    _slot: Slot,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        let frame = self.frame().await?;
        self.quiet_until = Instant::now() + self.heartbeat;
        Some((Ok(frame), self))
    }

    /// The next frame to send; `None` ends the stream.
    async fn frame(&mut self) -> Option<Bytes> {
        if let Some(retry) = self.retry.take() {
            return Some(Bytes::from(retry_frame(retry)));
        }
        loop {
            match self.pending.pop_front() {
                Some(Item::Resync) => return Some(Bytes::from(resync_frame())),
                Some(Item::Event(event)) => {
                    if !self.cursor.offer(event.id) {
                        continue;
                    }
                    self.client.metrics.sse_event_sent();
                    return Some(self.frames.frame(&event));
                }
                None => {}
            }
            let message = tokio::select! {
                _ = self.closing.wait_for(|closing| *closing) => return None,
                () = sleep_until(self.quiet_until) => return Some(Bytes::from_static(KEEPALIVE.as_bytes())),
                message = self.rx.recv() => message,
            };
            match message {
                Ok(BusMessage::Event(event)) => {
                    if self.cursor.gap_before(event.id) {
                        self.fill_gap().await?;
                    }
                    self.pending.push_back(Item::Event(event));
                }
                Ok(BusMessage::Resync) | Err(RecvError::Lagged(_)) => {
                    if self.cursor.can_fill() {
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
        let replay = self.bus.replay_after(self.cursor.last_sent()).await.ok()?;
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

/// The latest event's frame: a delivery fanned out to 10,000 streams is
/// framed once per thread, not 10,000 times (each stream sends the same
/// bytes). One slot per connection worker (and one for the rest), so that
/// the workers' streams never wait for each other's lock.
#[derive(Debug)]
pub(crate) struct FrameCache(Box<[Mutex<Option<Framed>>]>);

/// An event's id and its frame.
type Framed = (u64, Bytes);

impl FrameCache {
    /// A cache for `workers` connection workers.
    pub(crate) fn new(workers: usize) -> Self {
        Self((0..=workers).map(|_| Mutex::new(None)).collect())
    }

    /// `event`'s frame, rendered by the policy the first time this thread
    /// asks for it.
    fn frame(&self, event: &LiveEvent) -> Bytes {
        let slot = crate::connection::workers::current()
            .and_then(|worker| self.0.get(worker + 1))
            .or_else(|| self.0.first());
        let Some(Ok(mut latest)) = slot.map(Mutex::lock) else {
            return Bytes::from(event_frame(event));
        };
        match latest.as_ref() {
            Some((id, frame)) if *id == event.id => frame.clone(),
            _ => {
                let frame = Bytes::from(event_frame(event));
                *latest = Some((event.id, frame.clone()));
                frame
            }
        }
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
