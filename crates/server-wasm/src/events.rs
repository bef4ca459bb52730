//! Live events: the webhook receiver's checks and receipts, the in-process
//! event log, and what the JS side needs to serve `GET {mount}/events`
//! (its head, the frames, and each stream's [`SseCursor`]).
//!
//! As in the BFF: a delivery is checked by [`conferbot_policy::webhook::verify`];
//! an accepted one is applied to the cached reads by the patch rules (a new
//! response adds 1 to its chatbot's `responseCount` in place; with
//! `cacheEvents: "drop"`, what it touches is stale) and numbered in the log,
//! both in one step once per delivery (a sender's retry is a duplicate,
//! neither applied nor published again; with a store, in `publish.lua`,
//! [`crate::shared_delivery`]), then framed once for every stream. The
//! receiver is outside the mount's layers; the events stream is under them
//! (quota headers, allowlist, always-set headers, CORS).

use conferbot::protocol::webhooks::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use conferbot::Method;
use conferbot_policy::event_log::{LiveEvent, Published, Replay};
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::route::require_method;
use conferbot_policy::settings::{CacheEvents, MAX_BODY_BYTES};
use conferbot_policy::sse::{self, Cursor, KEEPALIVE, RESPONSE_HEADERS};
use conferbot_policy::webhook::{dedup_window, receipt, unavailable, unreadable, verify, Accepted};
use conferbot_policy::BffError;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::access::Caller;
use crate::combined_headers::CombinedHeaders;
use crate::cors::Cors;
use crate::policy::{millis, Policy, BODY_TOO_LARGE, BODY_UNREADABLE};
use crate::reply::Reply;

/// A webhook delivery as checked: refused (with its reply), or accepted.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Delivery {
    reply: Option<Reply>,
    pub(crate) accepted: Option<Accepted>,
    /// With a store: the held answers it touches (cache keys), as found.
    pub(crate) touched: Vec<String>,
}

#[wasm_bindgen]
impl Delivery {
    /// The refusal to send, when the delivery was refused.
    #[wasm_bindgen(js_name = takeReply)]
    pub fn take_reply(&mut self) -> Option<Reply> {
        self.reply.take()
    }

    /// The event's name (`response.created`).
    #[wasm_bindgen(getter)]
    pub fn event(&self) -> Option<String> {
        self.accepted.as_ref().map(|a| a.event().to_owned())
    }

    /// The delivery body as the SSE `data:`.
    #[wasm_bindgen(getter)]
    pub fn data(&self) -> Option<String> {
        self.accepted.as_ref().map(|a| a.data.clone())
    }

    /// What names the delivery for dedup (its signature).
    #[wasm_bindgen(getter)]
    pub fn dedup(&self) -> Option<String> {
        self.accepted.as_ref().map(|a| a.dedup.clone())
    }
}

impl Policy {
    /// What an accepted delivery does to cached reads: the patch rules, or
    /// with `cacheEvents: "drop"` every read about responses it names stale.
    pub(crate) fn delivery_change(&self, accepted: &Accepted) -> Invalidation {
        match self.settings.cache_events {
            CacheEvents::Patch => accepted.stale.clone(),
            CacheEvents::Drop => Invalidation::dropping(&accepted.delivery),
        }
    }
}

#[wasm_bindgen]
impl Policy {
    /// Checks a delivery: the method, its body (or why it could not be
    /// read), the signature, event and timestamp headers, at `now_secs`.
    #[allow(clippy::too_many_arguments)]
    pub fn webhook(
        &self,
        method: &str,
        signature: Option<String>,
        event: Option<String>,
        timestamp: Option<String>,
        body: Option<Vec<u8>>,
        body_problem: u8,
        now_secs: f64,
    ) -> Delivery {
        let refused = |err: &BffError| Delivery {
            reply: Some(Reply::error(err)),
            accepted: None,
            touched: Vec::new(),
        };
        if let Err(err) = require_method(method, Method::Post) {
            return refused(&err);
        }
        let raw = match body_problem {
            BODY_TOO_LARGE => Err(BffError::PayloadTooLarge(MAX_BODY_BYTES)),
            BODY_UNREADABLE => Err(BffError::BodyUnreadable),
            _ => Ok(body.unwrap_or_default()),
        };
        let headers = CombinedHeaders::new([
            (SIGNATURE_HEADER, signature),
            (EVENT_HEADER, event),
            (TIMESTAMP_HEADER, timestamp),
        ]);
        let checked = raw.map_err(unreadable).and_then(|raw| {
            verify(
                &headers,
                &raw,
                self.secret.as_deref(),
                self.settings.webhook_tolerance,
                now_secs as i64,
            )
        });
        match checked {
            Ok(accepted) => Delivery {
                reply: None,
                accepted: Some(accepted),
                touched: Vec::new(),
            },
            Err((_, err)) => refused(&err),
        }
    }

    /// Logs `delivery` in the in-process log at `now` (ms, monotonic) and,
    /// when it is new, applies it to the cached reads first (before any
    /// stream hears of it, so a page that re-reads on the event gets the
    /// patched answer): its id, or `0` for a duplicate.
    #[wasm_bindgen(js_name = publishLocal)]
    pub fn publish_local(&mut self, delivery: &Delivery, now: f64) -> f64 {
        let Some(accepted) = &delivery.accepted else {
            return 0.0;
        };
        let window = dedup_window(self.settings.webhook_tolerance);
        let (published, _) = self.log.publish(
            accepted.event(),
            accepted.data.clone(),
            &accepted.dedup,
            window,
            millis(now),
        );
        match published {
            Published::Event(id) => {
                let change = self.delivery_change(accepted);
                self.cache.apply(&change);
                id as f64
            }
            Published::Duplicate => 0.0,
        }
    }

    /// The receipt for a delivery published as `id` (`0`: a duplicate).
    pub fn receipt(&self, id: f64) -> Reply {
        let published = if id > 0.0 {
            Published::Event(id as u64)
        } else {
            Published::Duplicate
        };
        Reply::json(200, receipt(published))
    }

    /// The receiver's `503` while the shared state is down (the sender retries).
    #[wasm_bindgen(js_name = webhookUnavailable)]
    pub fn webhook_unavailable(&self) -> Reply {
        Reply::error(&unavailable().1)
    }

    /// How long a delivery's identity is remembered, in ms.
    #[wasm_bindgen(getter, js_name = dedupWindowMs)]
    pub fn dedup_window_ms(&self) -> f64 {
        dedup_window(self.settings.webhook_tolerance).as_millis() as f64
    }

    /// For `{mount}/events` at `now` (monotonic) and `wall` (Unix ms): the
    /// answer when the request is not a stream (a CORS preflight, the
    /// `authorize` hook's refusal, or a method other than `GET`), else
    /// nothing.
    pub fn events(
        &self,
        method: &str,
        origin: Option<String>,
        caller: &Caller,
        now: f64,
        wall: f64,
    ) -> Option<Reply> {
        if let Some(cors) = self.cors.as_ref().filter(|_| Cors::is_preflight(method)) {
            return Some(Reply::empty(cors.preflight(origin.as_deref())));
        }
        if let Err(err) = &caller.0 {
            return Some(self.refused(err, origin.as_deref()));
        }
        require_method(method, Method::Get).err().map(|err| {
            self.mount_reply(
                Reply::error(&err),
                origin.as_deref(),
                millis(now),
                millis(wall),
            )
        })
    }

    /// The stream's head (status and headers, the quota's among them; the
    /// body is the frames).
    #[wasm_bindgen(js_name = sseHead)]
    pub fn sse_head(&self, origin: Option<String>, now: f64, wall: f64) -> Reply {
        let headers = RESPONSE_HEADERS
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        self.mount_reply(
            Reply::empty(headers),
            origin.as_deref(),
            millis(now),
            millis(wall),
        )
    }

    /// The `Last-Event-ID` a reconnecting `EventSource` sent, when it is an id.
    #[wasm_bindgen(js_name = lastEventId)]
    pub fn last_event_id(&self, value: Option<String>) -> Option<f64> {
        let headers = CombinedHeaders::new([("last-event-id", value)]);
        sse::last_event_id(&headers).map(|id| id as f64)
    }

    /// `retry: …`, the stream's first frame.
    #[wasm_bindgen(js_name = retryFrame)]
    pub fn retry_frame(&self) -> String {
        sse::retry_frame(self.settings.sse_retry)
    }

    /// The keepalive comment of idle streams.
    #[wasm_bindgen(getter)]
    pub fn keepalive(&self) -> String {
        KEEPALIVE.to_owned()
    }

    /// `sseHeartbeatMs`.
    #[wasm_bindgen(getter, js_name = sseHeartbeatMs)]
    pub fn sse_heartbeat_ms(&self) -> f64 {
        self.settings.sse_heartbeat.as_millis() as f64
    }

    /// The notice that events were missed for good.
    #[wasm_bindgen(js_name = resyncFrame)]
    pub fn resync_frame(&self) -> String {
        sse::resync_frame()
    }

    /// One event's frame.
    #[wasm_bindgen(js_name = eventFrame)]
    pub fn event_frame(&self, id: f64, event: String, data: String) -> String {
        sse::event_frame(&LiveEvent {
            id: id as u64,
            event,
            data,
        })
    }

    /// The in-process log's events after `last` (all when absent):
    /// `{events: [{id, event, data}], truncated, latest}`.
    #[wasm_bindgen(js_name = replayAfter)]
    pub fn replay_after(&self, last: Option<f64>) -> Object {
        replay_object(&self.log.replay_after(last.map(millis)))
    }

    /// The in-process log's newest id.
    #[wasm_bindgen(js_name = latestEvent)]
    pub fn latest_event(&self) -> f64 {
        self.log.latest() as f64
    }
}

/// A replay as a JS object.
pub(crate) fn replay_object(replay: &Replay) -> Object {
    let events: Array = replay
        .events
        .iter()
        .map(|event| JsValue::from(event_object(event)))
        .collect();
    let out = Object::new();
    set(&out, "events", events.into());
    set(&out, "truncated", replay.truncated.into());
    set(&out, "latest", (replay.latest as f64).into());
    out
}

/// An event as a JS object `{id, event, data}`.
pub(crate) fn event_object(event: &LiveEvent) -> Object {
    let out = Object::new();
    set(&out, "id", (event.id as f64).into());
    set(&out, "event", event.event.as_str().into());
    set(&out, "data", event.data.as_str().into());
    out
}

pub(crate) fn set(target: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value);
}

/// One stream's position: which events to send, skip or fill in from the log.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct SseCursor(Cursor);

#[wasm_bindgen]
impl SseCursor {
    /// A stream that starts at the log's newest event (`None`: unknown).
    #[wasm_bindgen(js_name = atLatest)]
    pub fn at_latest(latest: Option<f64>) -> SseCursor {
        Self(Cursor::at_latest(latest.map(millis)))
    }

    /// A stream resuming after `last_event_id`, given the log's `latest`.
    pub fn resuming(last_event_id: f64, latest: f64) -> SseCursor {
        Self(Cursor::resuming(millis(last_event_id), millis(latest)))
    }

    /// Whether event `id` is to be sent (then it counts as sent).
    pub fn offer(&mut self, id: f64) -> bool {
        self.0.offer(millis(id))
    }

    /// Whether events were missed before `id`.
    #[wasm_bindgen(js_name = gapBefore)]
    pub fn gap_before(&self, id: f64) -> bool {
        self.0.gap_before(millis(id))
    }

    /// Whether the stream knows where it is.
    #[wasm_bindgen(js_name = canFill)]
    pub fn can_fill(&self) -> bool {
        self.0.can_fill()
    }

    /// The last id sent, for a replay.
    #[wasm_bindgen(getter, js_name = lastSent)]
    pub fn last_sent(&self) -> Option<f64> {
        self.0.last_sent().map(|id| id as f64)
    }
}
