//! What the optional Redis store (`conferbot-wasm/server`'s `redisStore`)
//! needs to share one rate window, one cache, one month's book and one event
//! log with `conferbot-bff` replicas on the same Redis: the key prefix (a
//! keyed hash of the API key), the key names and Lua scripts of
//! [`conferbot_policy::shared_state`] (the `.lua` files themselves, written
//! into the package by `cargo xtask dist`), the numbers the scripts take, and
//! the JSON documents they exchange.
//! The store runs the scripts; it states none of these itself. Reads are
//! [`crate::shared_read`], deliveries [`crate::shared_delivery`], turns at
//! the window [`crate::shared_window`].

use conferbot::Operation;
use conferbot_policy::event_log::replay_truncated;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::shared_state::wire::{decode_entry, DoneMessage, WireEvent};
use conferbot_policy::shared_state::{keys, lock_ttl, prefix, QUOTA_READ_EVERY};
use conferbot_policy::window::default_span;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::events::{event_object, set};
use crate::policy::{millis, Policy};

#[wasm_bindgen]
impl Policy {
    /// The shared layout for this key: `{prefix, keys, window: {spanMs},
    /// quota: {keys, readEveryMs}, cache:
    /// {lockTtlMs}, events: {capacity, dedupWindowMs}}`; names under `keys`
    /// are without the prefix, `quota.keys` with it. (The Lua scripts are
    /// the package's `server/lua/`, the policy's own files, written there by
    /// `cargo xtask dist`: the store reads them, the wasm need not carry them.)
    #[wasm_bindgen(js_name = sharedLayout)]
    pub fn shared_layout(&self) -> Object {
        let out = Object::new();
        let prefix = prefix(&self.key);
        set(&out, "prefix", prefix.as_str().into());
        let names = Object::new();
        for (name, value) in [
            ("pause", keys::PAUSE),
            ("doneChannel", keys::DONE_CHANNEL),
            ("eventsSeq", keys::EVENTS_SEQ),
            ("eventsLog", keys::EVENTS_LOG),
            ("eventsChannel", keys::EVENTS_CHANNEL),
            ("eventsSeen", &keys::events_seen("")),
        ] {
            set(&names, name, value.into());
        }
        set(&out, "keys", names.into());
        let window = Object::new();
        set(
            &window,
            "spanMs",
            (default_span(self.settings.rate).as_millis() as f64).into(),
        );
        set(&out, "window", window.into());
        let quota = Object::new();
        // quota.lua's KEYS: the book, the window's sends, leases, turns
        // granted and pause, then every operation's index (their sizes: the
        // answers held).
        let quota_keys: Array = [
            keys::QUOTA,
            keys::WINDOW,
            keys::LEASES,
            keys::GRANTED,
            keys::PAUSE,
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(Operation::ALL.into_iter().map(keys::index))
        .map(|name| JsValue::from(format!("{prefix}{name}")))
        .collect();
        set(&quota, "keys", quota_keys.into());
        set(
            &quota,
            "readEveryMs",
            (QUOTA_READ_EVERY.as_millis() as f64).into(),
        );
        set(&out, "quota", quota.into());
        let cache = Object::new();
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

impl Policy {
    /// `invalidate.lua`'s `{keys, args}` for a write's `change` (with a
    /// store): each touched operation's index then generation, each one's
    /// key prefix, then the key prefix; `None` without a store or a change.
    pub(crate) fn shared_invalidation(&self, change: &Invalidation) -> Option<Object> {
        if self.shared.is_none() || change.is_empty() {
            return None;
        }
        let base = prefix(&self.key);
        let keys_list = Array::new();
        let args = Array::new();
        for (operation, key_prefix) in change.key_prefixes() {
            keys_list.push(&format!("{base}{}", keys::index(operation)).into());
            keys_list.push(&format!("{base}{}", keys::generation(operation)).into());
            args.push(&key_prefix.into());
        }
        args.push(&base.into());
        let out = Object::new();
        set(&out, "keys", keys_list.into());
        set(&out, "args", args.into());
        Some(out)
    }
}
