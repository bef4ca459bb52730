//! What the optional Redis store (`conferbot-wasm/server`'s `redisStore`)
//! needs to share one rate window, one cache and one event log with
//! `conferbot-bff` replicas on the same Redis: the key prefix (a keyed hash
//! of the API key), the key names and Lua scripts of
//! [`conferbot_policy::shared_state`], the numbers the scripts take, and the
//! JSON documents they exchange. The store runs the scripts; it states none
//! of these itself.

use conferbot_policy::event_log::replay_truncated;
use conferbot_policy::shared_state::wire::{decode_entry, DoneMessage, WireAnswer, WireEvent};
use conferbot_policy::shared_state::{keys, lock_ttl, prefix, scripts};
use conferbot_policy::window::{default_span, shared_nap, LEASE};
use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::events::{event_object, set};
use crate::policy::{millis, Policy};

#[wasm_bindgen]
impl Policy {
    /// The shared layout for this key: `{prefix, keys, scripts, window:
    /// {max, spanMs, leaseMs}, cache: {ttlMs, lockTtlMs}, events:
    /// {capacity, dedupWindowMs}}`; names under `keys` are without the prefix.
    #[wasm_bindgen(js_name = sharedLayout)]
    pub fn shared_layout(&self, api_key: &str) -> Object {
        let out = Object::new();
        set(&out, "prefix", prefix(api_key).into());
        let names = Object::new();
        for (name, value) in [
            ("window", keys::WINDOW),
            ("queue", keys::QUEUE),
            ("leases", keys::LEASES),
            ("pause", keys::PAUSE),
            ("tickets", keys::TICKETS),
            ("generation", keys::GENERATION),
            ("cache", keys::CACHE),
            ("lock", keys::LOCK),
            ("doneChannel", keys::DONE_CHANNEL),
            ("eventsSeq", keys::EVENTS_SEQ),
            ("eventsLog", keys::EVENTS_LOG),
            ("eventsChannel", keys::EVENTS_CHANNEL),
            ("eventsSeen", &keys::events_seen("")),
        ] {
            set(&names, name, value.into());
        }
        let window_keys: js_sys::Array = keys::WINDOW_KEYS
            .iter()
            .map(|k| JsValue::from_str(k))
            .collect();
        set(&names, "windowKeys", window_keys.into());
        set(&out, "keys", names.into());
        let texts = Object::new();
        for (name, text) in [
            ("window", scripts::WINDOW),
            ("pause", scripts::PAUSE),
            ("begin", scripts::BEGIN),
            ("finish", scripts::FINISH),
            ("invalidate", scripts::INVALIDATE),
            ("publish", scripts::PUBLISH),
        ] {
            set(&texts, name, text.into());
        }
        set(&out, "scripts", texts.into());
        let window = Object::new();
        let rate = self.settings.rate;
        set(&window, "max", f64::from(rate.max).into());
        set(
            &window,
            "spanMs",
            (default_span(rate).as_millis() as f64).into(),
        );
        set(&window, "leaseMs", (LEASE.as_millis() as f64).into());
        set(&out, "window", window.into());
        let cache = Object::new();
        set(
            &cache,
            "ttlMs",
            (self.settings.cache_ttl.as_millis() as f64).into(),
        );
        set(
            &cache,
            "lockTtlMs",
            (lock_ttl(&self.settings).as_millis() as f64).into(),
        );
        set(&out, "cache", cache.into());
        let events = Object::new();
        set(
            &events,
            "capacity",
            (self.settings.event_replay as f64).into(),
        );
        set(&events, "dedupWindowMs", self.dedup_window_ms().into());
        set(&out, "events", events.into());
        out
    }

    /// How long a waiter of the shared window sleeps before asking again.
    #[wasm_bindgen(js_name = sharedNap)]
    pub fn shared_nap(&self, wait_ms: f64, rank: f64, budget_left_ms: f64) -> f64 {
        let ms = |v: f64| std::time::Duration::from_millis(millis(v));
        shared_nap(
            ms(wait_ms),
            millis(rank),
            self.settings.rate.max,
            ms(budget_left_ms),
        )
        .as_millis() as f64
    }

    /// `outcome` as the shared cache stores it.
    #[wasm_bindgen(js_name = toWire)]
    pub fn to_wire(&self, outcome: &Outcome) -> String {
        outcome.to_wire().encode()
    }

    /// A stored answer back as an outcome (`None` for anything unreadable).
    #[wasm_bindgen(js_name = fromWire)]
    pub fn from_wire(&self, text: &str) -> Option<Outcome> {
        WireAnswer::decode(text.as_bytes()).map(Outcome::from_wire)
    }

    /// The message a leader publishes for followers: its read's `key`, the
    /// generation it began under, and its outcome.
    #[wasm_bindgen(js_name = doneMessage)]
    pub fn done_message(&self, key: String, generation: f64, outcome: &Outcome) -> String {
        DoneMessage {
            key,
            gen: generation as i64,
            answer: outcome.to_wire(),
        }
        .encode()
    }

    /// A leader's message: `{key, generation, outcome}`, or `None`.
    #[wasm_bindgen(js_name = readDone)]
    pub fn read_done(&self, text: &str) -> Option<Object> {
        let done = DoneMessage::decode(text.as_bytes())?;
        if !done.answer.is_valid() {
            return None;
        }
        let out = Object::new();
        set(&out, "key", done.key.as_str().into());
        set(&out, "generation", (done.gen as f64).into());
        set(
            &out,
            "outcome",
            Outcome::from_wire(done.answer.clone()).into(),
        );
        Some(out)
    }

    /// An event announced on the events channel: `{id, event, data}`.
    #[wasm_bindgen(js_name = readWireEvent)]
    pub fn read_wire_event(&self, text: &str) -> Option<Object> {
        WireEvent::decode(text.as_bytes()).map(|event| event_object(&event))
    }

    /// A stream entry (`ID-0`, `[event, E, data, D]`) as `{id, event, data}`.
    #[wasm_bindgen(js_name = readEntry)]
    pub fn read_entry(&self, id: String, fields: Vec<String>) -> Option<Object> {
        decode_entry((id, fields)).map(|event| event_object(&event))
    }

    /// Whether a replay after `last` missed events, the oldest kept being
    /// `first_kept` and the newest `latest`.
    #[wasm_bindgen(js_name = replayTruncated)]
    pub fn replay_truncated(&self, last: Option<f64>, first_kept: f64, latest: f64) -> bool {
        replay_truncated(last.map(millis), millis(first_kept), millis(latest))
    }
}
