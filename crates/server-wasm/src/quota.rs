//! The month's quota as the handler knows it, as `conferbot-bff`'s
//! `QuotaStore` and forwarder keep it: in this process (the policy's
//! [`QuotaBook`]), or, with a store, the book every server on the Redis
//! shares (`quota.lua`; JS runs the script with what [`Policy::account`]
//! answers and hands each reply to [`Policy::shared_quota`]). The arithmetic
//! is the policy's ([`conferbot_policy::quota`]): what is refused, what the
//! cache may spend, the quota headers on every answer under the mount.

use conferbot::Operation;
use conferbot_policy::quota::{self, QuotaBook, Spend, CLOCK_RESOLUTION_MS};
use conferbot_policy::quota_headers::{quota_headers, MinuteView, QuotaFacts};
use conferbot_policy::shared_state::wire::{encode_learned, QuotaReply, SharedQuota};
use conferbot_policy::window::default_span;
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::policy::{millis, Policy};
use crate::reply::Reply;
use crate::step::Step;

#[wasm_bindgen]
impl Policy {
    /// The refusal of a call at `wall` (Unix ms), when the month is spent
    /// (the upstream's word, the plan's limit, or `monthlyBudget`): the
    /// `429` "Monthly API limit reached" until the month turns.
    pub fn refusal(&self, wall: f64) -> Option<Outcome> {
        let budget = self.settings.monthly_budget;
        self.quota_book()
            .refusal(budget, millis(wall))
            .map(|err| Outcome(Err(err)))
    }

    /// What an upstream answer taught at `wall`, as the BFF's forwarder
    /// learns it: the upstream's clock (its `Date`), one call counted (not
    /// its refusals), the month from a `getUsage`, a refusal for the month.
    /// In this process the book changes here; with a store, the answer is
    /// `quota.lua`'s operations to run in order, as flat pairs (`count`,
    /// `""`, `learn`, JSON, …), each reply going to `sharedQuota`.
    pub fn account(&mut self, step: &Step, outcome: &Outcome, wall: f64) -> Vec<String> {
        let Ok(answer) = &outcome.0 else {
            return Vec::new();
        };
        let now = millis(wall);
        let mut ops: Vec<(&str, String)> = Vec::new();
        if let Some(date_ms) = answer.date_ms {
            let mut book = self.quota_book();
            let before = book.clock_offset_ms;
            book.learn_clock_ms(date_ms, now);
            let offset = book.clock_offset_ms;
            if offset.abs_diff(before) >= CLOCK_RESOLUTION_MS {
                match self.shared {
                    None => self.book.clock_offset_ms = offset,
                    Some(_) => ops.push(("clock", offset.to_string())),
                }
            }
        }
        if quota::counts(answer.status) {
            match self.shared {
                None => self.book.count_call(now),
                Some(_) => ops.push(("count", String::new())),
            }
        }
        let usage = step.target_operation() == Some(Operation::GetUsage);
        if usage && (200..300).contains(&answer.status) {
            let mut scratch = QuotaBook::default();
            if let Some(learned) = scratch
                .learn_answer(&answer.body)
                .then_some(scratch.learned)
                .flatten()
            {
                match self.shared {
                    None => {
                        self.book.roll(now);
                        self.book.learned = Some(learned);
                        self.book.calls_at_learn = self.book.calls;
                    }
                    Some(_) => ops.push(("learn", encode_learned(&learned))),
                }
            }
        }
        if outcome.is_monthly_refusal() {
            match self.shared {
                None => self.book.refused_for_month(answer.retry_after, now),
                Some(_) => {
                    let mut book = self.quota_book();
                    book.refused_for_month(answer.retry_after, now);
                    if let Some(learned) = &book.learned {
                        ops.push(("learn", encode_learned(learned)));
                    }
                    let until = book.refused_until.unwrap_or(now);
                    ops.push(("refused", until.to_string()));
                }
            }
        }
        ops.into_iter()
            .flat_map(|(op, value)| [op.to_owned(), value])
            .collect()
    }

    /// `quota.lua`'s reply (each field as text), with a store: the shared
    /// month and window as of now.
    #[wasm_bindgen(js_name = sharedQuota)]
    pub fn shared_quota(&mut self, reply: Vec<String>) {
        if let (Some(view), Some(reply)) = (self.shared.as_mut(), quota_reply(&reply)) {
            *view = Some(SharedQuota::from_reply(reply));
        }
    }
}

impl Policy {
    /// The book as known: this process's, or the store's as last read.
    pub(crate) fn quota_book(&self) -> QuotaBook {
        match &self.shared {
            None => self.book.clone(),
            Some(view) => view
                .as_ref()
                .map(|view| view.book.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether a call must learn the month first (a budget needs the plan).
    pub(crate) fn needs_learning(&self, wall: u64) -> bool {
        self.quota_book().needs_learning(
            self.settings.monthly_budget,
            self.settings.refresh_budget,
            wall,
        )
    }

    /// What a cache may spend at `wall` with `held` answers held here (with
    /// a store, the shared cache's count).
    pub(crate) fn spend(&self, held: usize, wall: u64) -> Spend {
        let held = match &self.shared {
            None => held,
            Some(view) => view
                .as_ref()
                .map_or(0, |v| usize::try_from(v.held).unwrap_or(usize::MAX)),
        };
        let fresh_ms = u64::try_from(self.settings.cache_ttl.as_millis()).unwrap_or(u64::MAX);
        self.quota_book().spend(
            self.settings.monthly_budget,
            self.settings.refresh_budget,
            fresh_ms,
            held,
            wall,
        )
    }

    /// What the quota headers say at `now` (monotonic) and `wall` (Unix ms).
    pub(crate) fn quota_facts(&self, now: u64, wall: u64) -> QuotaFacts {
        let rate = self.settings.rate;
        let minute = match &self.shared {
            None => self.window.room(now),
            Some(view) => {
                let span = u64::try_from(default_span(rate).as_millis()).unwrap_or(u64::MAX);
                view.as_ref().map_or(
                    MinuteView {
                        limit: rate.max,
                        remaining: rate.max,
                        reset_ms: 0,
                    },
                    |view| view.minute(rate.max, span),
                )
            }
        };
        QuotaFacts {
            minute,
            month: self.quota_book().month(wall),
            queued_ms: None,
        }
    }

    /// A reply under the mount: the quota headers, then the mount's layers
    /// (allowlist, always-set headers, CORS), in the order the BFF finishes
    /// its answers under the mount.
    pub(crate) fn mount_reply(
        &self,
        mut reply: Reply,
        origin: Option<&str>,
        now: u64,
        wall: u64,
    ) -> Reply {
        reply.set_all(quota_headers(&self.quota_facts(now, wall)));
        reply.under_mount(self.cors.as_ref(), origin)
    }
}

/// `quota.lua`'s eleven fields, read back from their text.
fn quota_reply(fields: &[String]) -> Option<QuotaReply> {
    let n = |i: usize| -> Option<u64> { fields.get(i)?.parse().ok() };
    Some((
        n(0)?,
        fields.get(1)?.clone(),
        n(2)?,
        n(3)?,
        fields.get(4)?.parse().ok()?,
        n(5)?,
        n(6)?,
        n(7)?,
        n(8)?,
        n(9)?,
        n(10)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_replies_are_read_from_their_text() {
        let fields: Vec<String> = [
            "50",
            r#"{"month":"2025-01","limit":10000,"used":42}"#,
            "40",
            "0",
            "-3",
            "60",
            "1000",
            "0",
            "0",
            "30000",
            "7",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let reply = quota_reply(&fields).unwrap();
        let shared = SharedQuota::from_reply(reply);
        assert_eq!(shared.book.month(30_000).map(|m| m.used), Some(52));
        assert_eq!(shared.held, 7);
        assert!(quota_reply(&fields[..10]).is_none());
    }
}
