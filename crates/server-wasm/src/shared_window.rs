//! One request's turn at the shared rate window, as `conferbot-bff`'s Redis
//! window takes it (`crates/bff/src/state/window/redis.rs`): `window.lua`
//! joins the client's queue (reserving one of its monthly calls, with
//! `clientMonthlyCalls`), grants free slots to whoever's turn it is, and says
//! whether this request is admitted, when it likely will be and when to ask
//! again; `leave.lua` takes a ticket out at once when its request gives up
//! (a turn granted to it is given back, and its reservation). Every key,
//! argument and reading of a reply is here; the store runs the scripts.

use std::time::Duration;

use conferbot_policy::shared_state::{keys, prefix, SPEND_GRACE};
use conferbot_policy::spend::{month_of, until_next_month, Spent};
use conferbot_policy::window::{default_span, shared_nap, Share, WindowRefusal, LEASE};
use conferbot_policy::BffError;
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::policy::{millis, Policy};
use crate::step::Step;

/// One request's turn at the shared window.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct SharedTurn {
    prefix: String,
    client: String,
    /// `ticket:client` once the window gave one; empty before the first ask
    /// and once the turn is taken.
    member: String,
    max: u32,
    span_ms: u64,
    share: Share,
    lease_ms: u64,
    monthly_cap: Option<u64>,
    unix_secs: i64,
    estimate_ms: u64,
    wake_ms: u64,
}

#[wasm_bindgen]
impl Policy {
    /// `step`'s turn at the shared window, asked at `wall` (Unix ms: the
    /// month of the monthly caps).
    #[wasm_bindgen(js_name = sharedTurn)]
    pub fn shared_turn(&self, step: &Step, wall: f64) -> SharedTurn {
        let rate = self.settings.rate;
        let span_ms = duration_ms(default_span(rate));
        let max = usize::try_from(rate.max.max(1)).unwrap_or(usize::MAX);
        SharedTurn {
            prefix: prefix(&self.key),
            client: step.client.as_str().to_owned(),
            member: String::new(),
            max: rate.max,
            span_ms,
            share: Share::of(self.settings.client_share, max, span_ms),
            lease_ms: duration_ms(LEASE),
            monthly_cap: self.settings.client_monthly_calls,
            unix_secs: i64::try_from(millis(wall) / 1_000).unwrap_or(i64::MAX),
            estimate_ms: 0,
            wake_ms: 0,
        }
    }
}

#[wasm_bindgen]
impl SharedTurn {
    /// `window.lua`'s keys.
    #[wasm_bindgen(js_name = askKeys)]
    pub fn ask_keys(&self) -> Vec<String> {
        keys::WINDOW_KEYS.iter().map(|k| self.name(k)).collect()
    }

    /// `window.lua`'s arguments for the next ask.
    #[wasm_bindgen(js_name = askArgs)]
    pub fn ask_args(&self) -> Vec<String> {
        let spend_ttl = duration_ms(until_next_month(self.unix_secs) + SPEND_GRACE);
        vec![
            self.member.clone(),
            self.client.clone(),
            self.max.to_string(),
            self.span_ms.to_string(),
            self.share.slots.to_string(),
            self.share.span.to_string(),
            self.lease_ms.to_string(),
            self.spend_prefix(),
            self.monthly_cap.unwrap_or(0).to_string(),
            spend_ttl.to_string(),
            self.prefix.clone(),
        ]
    }

    /// Reads `window.lua`'s reply (each field as text): `admitted`, `spent`
    /// (the client made its monthly calls) or `wait`.
    pub fn answered(&mut self, reply: Vec<String>) -> String {
        let number = |i: usize| -> i64 { reply.get(i).and_then(|t| t.parse().ok()).unwrap_or(0) };
        let (status, estimate, wake) = (number(0), number(1), number(2));
        self.estimate_ms = u64::try_from(estimate).unwrap_or(0);
        self.wake_ms = u64::try_from(wake).unwrap_or(0);
        match status {
            1 => {
                self.member.clear();
                "admitted"
            }
            -1 => "spent",
            _ => {
                if let Some(member) = reply.get(3) {
                    self.member.clone_from(member);
                }
                "wait"
            }
        }
        .to_owned()
    }

    /// When the request is likely admitted, in ms from the last ask.
    #[wasm_bindgen(getter, js_name = estimateMs)]
    pub fn estimate_ms(&self) -> f64 {
        self.estimate_ms as f64
    }

    /// How long to sleep before asking again, `budget_left_ms` being what is
    /// left of the queue budget.
    #[wasm_bindgen(js_name = napMs)]
    pub fn nap_ms(&self, budget_left_ms: f64) -> f64 {
        let ms = |v: u64| Duration::from_millis(v);
        shared_nap(ms(self.wake_ms), ms(millis(budget_left_ms))).as_millis() as f64
    }

    /// The refusal when the client made its monthly calls.
    #[wasm_bindgen(js_name = spentRefusal)]
    pub fn spent_refusal(&self) -> Outcome {
        let spent = Spent {
            cap: self.monthly_cap.unwrap_or(0),
            retry_after: until_next_month(self.unix_secs),
        };
        Outcome(Err(BffError::from(WindowRefusal::ClientSpent(spent))))
    }

    /// Whether the request holds a place that `leave.lua` must give back.
    #[wasm_bindgen(getter)]
    pub fn waiting(&self) -> bool {
        !self.member.is_empty()
    }

    /// `leave.lua`'s keys.
    #[wasm_bindgen(js_name = leaveKeys)]
    pub fn leave_keys(&self) -> Vec<String> {
        keys::LEAVE_KEYS.iter().map(|k| self.name(k)).collect()
    }

    /// `leave.lua`'s arguments: the member, its client's spend counter (''
    /// without a cap), the prefix of per-client keys.
    #[wasm_bindgen(js_name = leaveArgs)]
    pub fn leave_args(&self) -> Vec<String> {
        let spend = match self.monthly_cap {
            Some(_) => format!("{}{}", self.spend_prefix(), self.client),
            None => String::new(),
        };
        vec![self.member.clone(), spend, self.prefix.clone()]
    }
}

impl SharedTurn {
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn spend_prefix(&self) -> String {
        self.name(&keys::spend_prefix(&month_of(self.unix_secs)))
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(cap: Option<u64>) -> SharedTurn {
        SharedTurn {
            prefix: "conferbot-bff:{x}:".into(),
            client: "ip:203.0.113.7".into(),
            member: String::new(),
            max: 60,
            span_ms: 61_200,
            share: Share::of(10, 60, 61_200),
            lease_ms: 10_000,
            monthly_cap: cap,
            unix_secs: 1_735_689_600,
            estimate_ms: 0,
            wake_ms: 0,
        }
    }

    #[test]
    fn asks_and_leaves_with_the_bffs_keys_and_arguments() {
        let mut turn = turn(Some(500));
        let keys = turn.ask_keys();
        assert_eq!(keys.len(), 8);
        assert_eq!(keys[0], "conferbot-bff:{x}:window");
        let args = turn.ask_args();
        assert_eq!((args[0].as_str(), args[1].as_str()), ("", "ip:203.0.113.7"));
        assert_eq!(args[7], "conferbot-bff:{x}:spend:2025-01:");
        assert_eq!(args[8], "500");
        assert_eq!(
            turn.answered(vec![
                "0".into(),
                "1200".into(),
                "300".into(),
                "7:ip:203.0.113.7".into()
            ]),
            "wait"
        );
        assert!(turn.waiting());
        assert_eq!(turn.ask_args()[0], "7:ip:203.0.113.7");
        assert_eq!(turn.nap_ms(10_000.0), 300.0);
        assert_eq!(
            turn.leave_args()[1],
            "conferbot-bff:{x}:spend:2025-01:ip:203.0.113.7"
        );
        assert_eq!(
            turn.answered(vec!["1".into(), "0".into(), "0".into(), String::new()]),
            "admitted"
        );
        assert!(!turn.waiting());
        assert_eq!(
            turn.answered(vec!["-1".into(), "0".into(), "0".into(), String::new()]),
            "spent"
        );
        assert_eq!(turn.spent_refusal().status(), 429);
        assert_eq!(self::turn(None).leave_args()[1], "");
    }
}
