//! A read's turn at the handler's cache table, as the BFF's in-process
//! cache takes it: a fresh hit, a stale answer (maybe with this request's
//! background refresh), a read to join, or one to lead, spending as the
//! month allows; and how a led read or a refresh ends ([`Policy::settle`]).

use conferbot::Operation;
use conferbot_policy::cache_table::{Finished, Lookup, Settled};
use conferbot_policy::headers::{upstream_call, CacheStatus};
use conferbot_policy::quota::Spend;
use conferbot_policy::Target;
use wasm_bindgen::prelude::*;

use crate::answer::{Held, Outcome};
use crate::policy::{millis, Policy};
use crate::reply::Reply;
use crate::step::{Kind, Step};

#[wasm_bindgen]
impl Policy {
    /// The `getUsage` read a `learn` step needs first (through the cache),
    /// on behalf of the same client.
    #[wasm_bindgen(js_name = usageStep)]
    pub fn usage_step(&mut self, learning: &Step, now: f64, wall: f64) -> Step {
        let target = Target {
            operation: Operation::GetUsage,
            ids: Vec::new(),
            page: None,
        };
        let mut step = match upstream_call(&self.settings.upstream, &target) {
            Ok(call) => Step::call(call, None),
            Err(err) => return Step::reply(Reply::error(&err)),
        };
        step.client = learning.client.clone();
        self.look_up(&mut step, target, millis(now), millis(wall));
        step
    }

    /// Ends a led read or a background refresh with `outcome` at `now`: a
    /// success is kept; a failure that says nothing about the data (a
    /// `429`, a `5xx`) restores what was held, which is then served instead
    /// (the answer returned, marked stale).
    pub fn settle(&mut self, step: &Step, outcome: &Outcome, now: f64) -> Option<Held> {
        let (Some(target), Some(call)) = (&step.target, step.slot) else {
            return None;
        };
        let finished = match &outcome.0 {
            Ok(_) => Finished::Answer(outcome),
            Err(err) => Finished::Failed {
                status: err.status(),
            },
        };
        match self.cache.settle(target, call, finished, millis(now)) {
            Settled::Fallback { answer, age_ms } => Some(Held {
                outcome: answer,
                age_ms,
            }),
            Settled::Passed => None,
        }
    }
}

impl Policy {
    /// The read's turn at the cache table, spending as the month allows.
    pub(crate) fn look_up(&mut self, step: &mut Step, target: Target, now: u64, wall: u64) {
        let spend = self.local_spend(wall);
        let next = self.next_handle;
        match self.cache.lookup(&target, now, spend, |_| next) {
            Lookup::Hit { answer, age_ms } => {
                step.kind = Kind::Reply;
                step.reply = Some(Reply::outcome(
                    &answer,
                    Some(CacheStatus::Hit),
                    Some(age_ms),
                ));
            }
            Lookup::Stale {
                answer,
                age_ms,
                refresh,
            } => {
                let reply = Reply::outcome(&answer, Some(CacheStatus::Stale), Some(age_ms));
                step.reply = Some(reply);
                step.kind = if refresh.is_some() {
                    Kind::Stale
                } else {
                    Kind::Reply
                };
                step.slot = refresh;
            }
            Lookup::Joined(handle) => {
                step.kind = Kind::Join;
                step.handle = handle;
            }
            Lookup::Led(call, handle) => {
                self.next_handle = self.next_handle.wrapping_add(1).max(1);
                step.kind = Kind::Lead;
                step.handle = handle;
                step.slot = Some(call);
            }
        }
        step.target = Some(target);
    }

    /// What the in-process table may spend: the month's word (with a
    /// store, the shared cache spends it; this table only joins reads).
    fn local_spend(&self, wall: u64) -> Spend {
        if self.shared.is_some() {
            return Spend::FREE;
        }
        self.spend(self.cache.held(), wall)
    }
}
