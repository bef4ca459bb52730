//! The in-process rate window's turns, for JS timers: a request takes a
//! ticket for its client ([`Policy::window_join`]) and polls
//! ([`Policy::window_poll`]) until it is admitted, sleeping until the time it
//! is told or until the queue changes (a poll that granted turns to others,
//! or a ticket that left, says so: [`Policy::window_news`]); an upstream
//! `429` pauses the window and may repeat the call ([`Policy::window_pause`],
//! [`Policy::repeat_after_429`]). The arithmetic is the policy's
//! [`conferbot_policy::window`], the same as the BFF's: fair between
//! clients, each paced to its share, each under its monthly cap.

use std::time::Duration;

use conferbot_policy::window::{pause_after_429, repeat_after_429, Turn, WindowRefusal};
use conferbot_policy::BffError;
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::policy::{millis, Policy};
use crate::step::Step;

/// [`Policy::window_poll`]: admitted, send now.
pub const ADMITTED: f64 = -1.0;

/// A place taken in the window's queue, or the client's monthly refusal.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Joined {
    ticket: u32,
    refusal: Option<Outcome>,
}

#[wasm_bindgen]
impl Joined {
    /// The ticket to poll with (`0` when refused).
    #[wasm_bindgen(getter)]
    pub fn ticket(&self) -> u32 {
        self.ticket
    }

    /// The refusal (`429`: the client made its monthly calls), once.
    #[wasm_bindgen(js_name = takeRefusal)]
    pub fn take_refusal(&mut self) -> Option<Outcome> {
        self.refusal.take()
    }
}

#[wasm_bindgen]
impl Policy {
    /// Takes a place at the end of `step`'s client's queue at `wall` (Unix
    /// ms: the month of the monthly caps).
    #[wasm_bindgen(js_name = windowJoin)]
    pub fn window_join(&mut self, step: &Step, wall: f64) -> Joined {
        let unix_secs = i64::try_from(millis(wall) / 1_000).unwrap_or(i64::MAX);
        match self.window.join(&step.client, unix_secs) {
            Ok(place) => {
                let id = self.next_ticket;
                self.next_ticket = self.next_ticket.wrapping_add(1).max(1);
                self.tickets.insert(id, place);
                Joined {
                    ticket: id,
                    refusal: None,
                }
            }
            Err(spent) => Joined {
                ticket: 0,
                refusal: Some(Outcome(Err(BffError::from(WindowRefusal::ClientSpent(
                    spent,
                ))))),
            },
        }
    }

    /// Where `ticket` stands at `now` with its `deadline` (ms): `-1`
    /// admitted, a time `≥ 0` to poll again at (or sooner when woken), or
    /// `-(3 + retry_after_ms)` refused (its turn would come after the deadline).
    #[wasm_bindgen(js_name = windowPoll)]
    pub fn window_poll(&mut self, ticket: u32, now: f64, deadline: f64) -> f64 {
        let Some(&place) = self.tickets.get(&ticket) else {
            return -3.0;
        };
        match self.window.poll(place, millis(now), millis(deadline)) {
            Turn::Admitted => {
                self.tickets.remove(&ticket);
                ADMITTED
            }
            Turn::WaitUntil(at) => at as f64,
            Turn::Refused { retry_after_ms } => {
                self.tickets.remove(&ticket);
                -3.0 - retry_after_ms as f64
            }
        }
    }

    /// Whether the other waiters should poll again since the last call
    /// (turns were granted to them, or tickets left).
    #[wasm_bindgen(js_name = windowNews)]
    pub fn window_news(&mut self) -> bool {
        self.window.take_news()
    }

    /// Leaves the queue without a turn (the request went away): a turn
    /// granted but not taken is given back, and the monthly reservation.
    #[wasm_bindgen(js_name = windowLeave)]
    pub fn window_leave(&mut self, ticket: u32) {
        if let Some(place) = self.tickets.remove(&ticket) {
            self.window.leave(place);
        }
    }

    /// After an upstream `429` with `retry_after` seconds (if sent): how long
    /// the window pauses, in ms. With `local`, this window pauses now.
    #[wasm_bindgen(js_name = windowPause)]
    pub fn window_pause(&mut self, now: f64, retry_after: Option<f64>, local: bool) -> f64 {
        let pause = pause_after_429(retry_after.map(millis)); // whole seconds
        if local {
            self.window.pause(millis(now), pause);
        }
        pause.as_millis() as f64
    }

    /// Whether a request whose `attempt`-th call got a `429` is sent again
    /// after `pause_ms`, with `budget_left_ms` of its queue budget left.
    #[wasm_bindgen(js_name = repeatAfter429)]
    pub fn repeat_after_429(&self, attempt: u32, pause_ms: f64, budget_left_ms: f64) -> bool {
        repeat_after_429(
            attempt,
            Duration::from_millis(millis(pause_ms)),
            Duration::from_millis(millis(budget_left_ms)),
        )
    }
}
