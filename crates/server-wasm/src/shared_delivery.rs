//! An accepted delivery applied to the shared cache and logged, once for the
//! whole fleet, as `conferbot-bff` does it with `--redis`: the generations of
//! the operations it touches are bumped and their indexes read
//! ([`Policy::delivery_reads`]); the held answers it may touch are read
//! ([`Policy::delivery_touched`]); the patch rules compute what it does to
//! each (the same [`held_changes`] as the BFF's), and `publish.lua` applies
//! those changes, logs and announces the event in one step tied to the
//! delivery's dedup marker ([`Policy::delivery_publish`]), patching only
//! answers still as read. The store runs the commands; the names, the rules
//! and the script's arguments are all here.

use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::shared_state::changes::{held_changes, touched_key};
use conferbot_policy::shared_state::{keys, prefix};
use conferbot_policy::webhook::dedup_window;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::events::{set, Delivery};
use crate::policy::Policy;

#[wasm_bindgen]
impl Policy {
    /// Applies `delivery` to this handler's reads in flight (they are not
    /// joined afterwards), and answers what to read first, as flat pairs:
    /// each touched operation's generation (to `INCR`, so reads that began
    /// before it are not stored) and its index (to `SMEMBERS`).
    #[wasm_bindgen(js_name = deliveryReads)]
    pub fn delivery_reads(&mut self, delivery: &Delivery) -> Vec<String> {
        let Some(change) = self.change_of(delivery) else {
            return Vec::new();
        };
        self.cache.apply(&change);
        let base = prefix(&self.key);
        change
            .key_prefixes()
            .into_iter()
            .flat_map(|(operation, _)| {
                [
                    format!("{base}{}", keys::generation(operation)),
                    format!("{base}{}", keys::index(operation)),
                ]
            })
            .collect()
    }

    /// Of the index members read, the held answers `delivery` may touch:
    /// their keys, to `HGET … answer`.
    #[wasm_bindgen(js_name = deliveryTouched)]
    pub fn delivery_touched(&self, delivery: &mut Delivery, members: Vec<String>) -> Vec<String> {
        let Some(change) = self.change_of(delivery) else {
            return Vec::new();
        };
        let base = prefix(&self.key);
        let mut touched: Vec<String> = members
            .iter()
            .filter_map(|member| touched_key(&change, &base, member).map(str::to_owned))
            .collect();
        touched.dedup();
        let names = touched
            .iter()
            .map(|key| format!("{base}{}", keys::cache(key)))
            .collect();
        delivery.touched = touched;
        names
    }

    /// `publish.lua`'s `{keys, args}` for `delivery`, given the `answer`
    /// fields read for its touched keys (`null` for one gone meanwhile).
    #[wasm_bindgen(js_name = deliveryPublish)]
    pub fn delivery_publish(&self, delivery: &Delivery, answers: Vec<JsValue>) -> Option<Object> {
        let accepted = delivery.accepted.as_ref()?;
        let change = self.delivery_change(accepted);
        let held: Vec<(String, String)> = delivery
            .touched
            .iter()
            .zip(answers)
            .filter_map(|(key, answer)| Some((key.clone(), answer.as_string()?)))
            .collect();
        let changes = held_changes(&change, held.iter().map(|(k, a)| (k.as_str(), a.as_str())));
        let base = prefix(&self.key);
        let name = |key: &str| JsValue::from(format!("{base}{key}"));
        let names = Array::new();
        names.push(&name(keys::EVENTS_SEQ));
        names.push(&name(keys::EVENTS_LOG));
        names.push(&name(&keys::events_seen(&accepted.dedup)));
        for held in &changes {
            names.push(&name(&keys::cache(&held.key)));
        }
        for operation in change.operations {
            names.push(&name(&keys::generation(*operation)));
        }
        let window = dedup_window(self.settings.webhook_tolerance);
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let args = Array::new();
        for arg in [
            accepted.event().to_owned(),
            accepted.data.clone(),
            self.settings.event_replay.max(1).to_string(),
            format!("{base}{}", keys::EVENTS_CHANNEL),
            window_ms.to_string(),
            changes.len().to_string(),
            change.operations.len().to_string(),
        ] {
            args.push(&arg.into());
        }
        for held in &changes {
            args.push(&held.read.as_str().into());
            args.push(&held.patched.as_deref().unwrap_or("").into());
        }
        let out = Object::new();
        set(&out, "keys", names.into());
        set(&out, "args", args.into());
        Some(out)
    }
}

impl Policy {
    fn change_of(&self, delivery: &Delivery) -> Option<Invalidation> {
        delivery
            .accepted
            .as_ref()
            .map(|accepted| self.delivery_change(accepted))
    }
}
