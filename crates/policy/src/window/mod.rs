//! Traffic shaping: a sliding window in front of the upstream, with a FIFO
//! queue instead of failures, as a state machine over time in milliseconds.
//!
//! The upstream allows `max` requests per sliding `window` per key (60/60s).
//! A request is admitted when fewer than `max` were sent within the last
//! `window + margin`; otherwise it waits, in arrival order, until the oldest
//! send leaves that span. The margin absorbs the difference between the time
//! we send and the time the upstream counts (network and scheduling delay,
//! and the millisecond resolution here), so our window is always a little
//! stricter than theirs and a burst through the BFF never earns an upstream
//! `429`. An upstream `429` still pauses the queue for its `Retry-After`
//! ([`pause_after_429`]).
//!
//! Each waiter holds a [`Ticket`] and [`Window::poll`]s: it is admitted when it
//! is first in the queue and the window has room, told when its turn will come
//! (exact, unless the queue changes), or refused at once when that is past its
//! deadline. The Redis window (`window.lua`) runs the same arithmetic in
//! Redis for every replica; [`shared_nap`] is its caller's side.
//!
//! Fairness between clients belongs in the queue's order: today first come,
//! first served ([`Window::join`] appends); a per-client queue would pick the
//! head round-robin over clients instead.

use std::collections::VecDeque;
use std::time::Duration;

use conferbot::RateSpec;

use crate::error::BffError;

/// Upstream calls per request at most (the first and two after 429s).
pub const MAX_ATTEMPTS: u32 = 3;
/// Longest pause an upstream `429` imposes: a monthly-quota answer may ask
/// for days, and the BFF must recover by itself once the quota is raised.
pub const MAX_PAUSE: Duration = Duration::from_secs(300);
/// Pause when a `429` comes without a usable `Retry-After`.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// The default safety margin for a window: 2%, at least 200 ms (1.2 s at 60/60s).
pub fn default_margin(window: Duration) -> Duration {
    (window / 50).max(Duration::from_millis(200))
}

/// The span sends are counted over: the window plus the default margin.
pub fn default_span(spec: RateSpec) -> Duration {
    spec.window + default_margin(spec.window)
}

/// A place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

/// What a poll of the window says to one waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Send now: the send is counted.
    Admitted,
    /// Not yet: poll again at this time (ms), or sooner if the queue changes.
    WaitUntil(u64),
    /// Its time has come, but waiters ahead go first: poll again when the
    /// queue changes.
    Behind,
    /// The turn would come after the deadline: the ticket left the queue.
    Refused {
        /// How long until a retry would likely be admitted, in ms.
        retry_after_ms: u64,
    },
}

/// Why a window gave no turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefusal {
    /// The wait would exceed the request's budget.
    Full {
        /// When a retry would likely be admitted.
        retry_after: Duration,
    },
    /// The shared window is unreachable: no turn can be granted safely, so
    /// none is (fail closed).
    Unavailable,
}

impl From<WindowRefusal> for BffError {
    fn from(refusal: WindowRefusal) -> Self {
        match refusal {
            WindowRefusal::Full { retry_after } => BffError::QueueTimeout { retry_after },
            WindowRefusal::Unavailable => BffError::SharedStateUnavailable,
        }
    }
}

/// The sliding window of one API key, with its queue of waiters.
#[derive(Debug, Clone)]
pub struct Window {
    max: usize,
    span: u64,
    /// Send times still inside the span, oldest first.
    sent: VecDeque<u64>,
    /// Set by an upstream `429`: nothing is admitted before this time.
    paused_until: u64,
    /// Waiting tickets, first in line first.
    queue: VecDeque<Ticket>,
    next_ticket: u64,
}

impl Window {
    /// A window for `spec` with the default margin.
    pub fn new(spec: RateSpec) -> Self {
        Self::with_margin(spec, default_margin(spec.window))
    }

    /// A window for `spec` with an explicit safety `margin`.
    pub fn with_margin(spec: RateSpec, margin: Duration) -> Self {
        Self {
            max: usize::try_from(spec.max.max(1)).unwrap_or(usize::MAX),
            span: millis(spec.window + margin),
            sent: VecDeque::new(),
            paused_until: 0,
            queue: VecDeque::new(),
            next_ticket: 0,
        }
    }

    /// Takes a place at the end of the queue.
    pub fn join(&mut self) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket = self.next_ticket.wrapping_add(1);
        self.queue.push_back(ticket);
        ticket
    }

    /// Leaves the queue without a turn (the request went away). Waiters
    /// behind it move up: tell them to poll again.
    pub fn leave(&mut self, ticket: Ticket) {
        self.queue.retain(|t| *t != ticket);
    }

    /// How many wait.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Where `ticket` stands at `now`, refusing it when its turn would come
    /// after `deadline`. A ticket not in the queue (it left) is refused.
    pub fn poll(&mut self, ticket: Ticket, now: u64, deadline: u64) -> Turn {
        while self
            .sent
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= self.span)
        {
            self.sent.pop_front();
        }
        let Some(rank) = self.queue.iter().position(|t| *t == ticket) else {
            return Turn::Refused { retry_after_ms: 0 };
        };
        let at = self.slot_time(rank, now).max(self.paused_until);
        if at <= now {
            if rank > 0 {
                return Turn::Behind;
            }
            self.queue.pop_front();
            self.sent.push_back(now);
            return Turn::Admitted;
        }
        if at > deadline {
            self.leave(ticket);
            return Turn::Refused {
                retry_after_ms: at - now,
            };
        }
        Turn::WaitUntil(at)
    }

    /// Stops admitting until `now + duration` (an upstream `429` said
    /// `Retry-After`). A longer pause already in force is kept.
    pub fn pause(&mut self, now: u64, duration: Duration) {
        self.paused_until = self.paused_until.max(now.saturating_add(millis(duration)));
    }

    /// When the waiter of `rank` (0: first) gets a slot, pauses aside: the
    /// `(count - max + rank)`-th oldest send must leave the span first; past
    /// the sends in the window, whole spans of waiters (as `window.lua`).
    fn slot_time(&self, rank: usize, now: u64) -> u64 {
        let count = self.sent.len();
        let Some(index) = (count + rank).checked_sub(self.max) else {
            return now;
        };
        let (index, laps) = if index >= count {
            let laps = (index - count) / self.max + 1;
            (index.checked_sub(laps * self.max), laps)
        } else {
            (Some(index), 0)
        };
        let base = index
            .and_then(|i| self.sent.get(i))
            .map_or(now, |&sent| sent.saturating_add(self.span));
        let laps = u64::try_from(laps).unwrap_or(u64::MAX);
        base.saturating_add(laps.saturating_mul(self.span))
    }
}

/// How long an upstream `429` pauses the window: its `Retry-After`, or
/// [`DEFAULT_PAUSE`], at most [`MAX_PAUSE`].
pub fn pause_after_429(retry_after: Option<u64>) -> Duration {
    retry_after
        .map_or(DEFAULT_PAUSE, Duration::from_secs)
        .min(MAX_PAUSE)
}

/// Whether a request that got an upstream `429` on its `attempt`-th call is
/// sent again once the `pause` ends: a `429` means the upstream did not act,
/// so repeating is safe for writes too, if it fits the `budget_left`.
pub fn repeat_after_429(attempt: u32, pause: Duration, budget_left: Duration) -> bool {
    attempt < MAX_ATTEMPTS && pause <= budget_left
}

/// Longest sleep between two asks of the shared window (well under its lease).
pub const MAX_NAP: Duration = Duration::from_secs(2);
/// Shortest sleep between two asks (when only predecessors are in the way).
pub const MIN_NAP: Duration = Duration::from_millis(5);
/// A waiter of the shared window that does not renew its lease within this
/// long leaves the queue (its replica died).
pub const LEASE: Duration = Duration::from_secs(10);

/// How long a waiter of the shared window sleeps before asking again, told
/// `wait` at `rank`: exact for the first `max` waiters, halfway beyond (to
/// re-estimate), within [`MIN_NAP`]..[`MAX_NAP`] and never past `budget_left`.
pub fn shared_nap(wait: Duration, rank: u64, max: u32, budget_left: Duration) -> Duration {
    let nap = if rank < u64::from(max) {
        wait
    } else {
        wait / 2
    };
    nap.clamp(MIN_NAP, MAX_NAP).min(budget_left)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(max: u32, window_ms: u64, margin_ms: u64) -> Window {
        let spec = RateSpec {
            max,
            window: Duration::from_millis(window_ms),
        };
        Window::with_margin(spec, Duration::from_millis(margin_ms))
    }

    /// Joins and polls at once, as an arriving request does.
    fn arrive(w: &mut Window, now: u64, deadline: u64) -> (Ticket, Turn) {
        let ticket = w.join();
        (ticket, w.poll(ticket, now, deadline))
    }

    #[test]
    fn admits_max_at_once_then_one_per_expiry() {
        let mut w = window(3, 1_000, 100);
        for _ in 0..3 {
            assert_eq!(arrive(&mut w, 0, 10_000).1, Turn::Admitted);
        }
        // The 4th waits until the 1st is older than window + margin.
        let (ticket, turn) = arrive(&mut w, 0, 10_000);
        assert_eq!(turn, Turn::WaitUntil(1_100));
        assert_eq!(w.poll(ticket, 1_099, 10_000), Turn::WaitUntil(1_100));
        assert_eq!(w.poll(ticket, 1_100, 10_000), Turn::Admitted);
    }

    #[test]
    fn waiters_are_told_their_exact_turn_in_arrival_order() {
        let mut w = window(2, 1_000, 0);
        arrive(&mut w, 0, 60_000);
        arrive(&mut w, 500, 60_000);
        let turns: Vec<Turn> = (0..5).map(|_| arrive(&mut w, 600, 60_000).1).collect();
        assert_eq!(
            turns,
            vec![
                Turn::WaitUntil(1_000),
                Turn::WaitUntil(1_500),
                Turn::WaitUntil(2_000),
                Turn::WaitUntil(2_500),
                Turn::WaitUntil(3_000),
            ]
        );
        assert_eq!(w.queued(), 5);
    }

    #[test]
    fn only_the_first_in_line_is_admitted() {
        let mut w = window(5, 1_000, 0);
        for _ in 0..5 {
            arrive(&mut w, 0, 10_000);
        }
        let first = arrive(&mut w, 0, 10_000).0;
        let second = arrive(&mut w, 0, 10_000).0;
        // At 1000 both slots are free, but the second must not pass the first.
        assert_eq!(w.poll(second, 1_000, 10_000), Turn::Behind);
        assert_eq!(w.poll(first, 1_000, 10_000), Turn::Admitted);
        assert_eq!(w.poll(second, 1_000, 10_000), Turn::Admitted);
    }

    #[test]
    fn never_more_than_max_sends_in_any_span() {
        let mut w = window(5, 1_000, 50);
        let mut waiting: VecDeque<Ticket> = (0..23).map(|_| w.join()).collect();
        let mut sends = Vec::new();
        let mut now = 0;
        while let Some(&head) = waiting.front() {
            match w.poll(head, now, u64::MAX) {
                Turn::Admitted => {
                    sends.push(now);
                    waiting.pop_front();
                }
                Turn::WaitUntil(at) => now = at,
                other => panic!("{other:?}"),
            }
        }
        for pair in sends.windows(6) {
            assert!(pair[5] - pair[0] >= 1_050, "{sends:?}");
        }
        // 23 sends at 5 per 1.05 s: the last batch starts after 4 spans.
        assert_eq!(*sends.last().unwrap(), 4_200);
    }

    #[test]
    fn refuses_past_the_deadline_without_taking_a_turn() {
        let mut w = window(2, 1_000, 0);
        arrive(&mut w, 0, 1);
        arrive(&mut w, 0, 1);
        let turn = arrive(&mut w, 0, 300).1;
        assert_eq!(
            turn,
            Turn::Refused {
                retry_after_ms: 1_000
            }
        );
        assert_eq!(w.queued(), 0);
        assert_eq!(arrive(&mut w, 1_000, 1_001).1, Turn::Admitted);
        assert_eq!(arrive(&mut w, 1_000, 1_001).1, Turn::Admitted);
    }

    #[test]
    fn an_upstream_429_pauses_the_queue_and_a_longer_pause_wins() {
        let mut w = window(100, 1_000, 0);
        arrive(&mut w, 0, 1);
        w.pause(0, Duration::from_secs(2));
        w.pause(0, Duration::from_secs(1));
        let (ticket, turn) = arrive(&mut w, 0, 5_000);
        assert_eq!(turn, Turn::WaitUntil(2_000));
        assert_eq!(w.poll(ticket, 2_000, 5_000), Turn::Admitted);
        w.pause(2_000, Duration::from_secs(30));
        let turn = arrive(&mut w, 2_000, 7_000).1;
        assert_eq!(
            turn,
            Turn::Refused {
                retry_after_ms: 30_000
            }
        );
    }

    #[test]
    fn a_waiter_that_leaves_lets_the_next_move_up() {
        let mut w = window(1, 1_000, 0);
        arrive(&mut w, 0, 1);
        let (gone, _) = arrive(&mut w, 0, 10_000);
        let (next, turn) = arrive(&mut w, 0, 10_000);
        assert_eq!(turn, Turn::WaitUntil(2_000));
        w.leave(gone);
        assert_eq!(w.poll(next, 0, 10_000), Turn::WaitUntil(1_000));
        assert_eq!(w.poll(gone, 0, 10_000), Turn::Refused { retry_after_ms: 0 });
    }

    #[test]
    fn upstream_429s_pause_within_bounds_and_repeat_within_the_budget() {
        assert_eq!(pause_after_429(Some(7)), Duration::from_secs(7));
        assert_eq!(pause_after_429(None), DEFAULT_PAUSE);
        assert_eq!(pause_after_429(Some(86_400 * 30)), MAX_PAUSE);
        let second = Duration::from_secs(1);
        assert!(repeat_after_429(1, second, second));
        assert!(!repeat_after_429(1, second * 2, second));
        assert!(!repeat_after_429(MAX_ATTEMPTS, second, second * 10));
    }

    #[test]
    fn shared_naps_are_exact_near_the_head_and_bounded() {
        let ms = Duration::from_millis;
        assert_eq!(shared_nap(ms(300), 0, 20, ms(10_000)), ms(300));
        assert_eq!(shared_nap(ms(1_000), 25, 20, ms(10_000)), ms(500));
        assert_eq!(shared_nap(ms(0), 1, 20, ms(10_000)), MIN_NAP);
        assert_eq!(shared_nap(ms(60_000), 0, 20, ms(10_000)), MAX_NAP);
        assert_eq!(shared_nap(ms(300), 0, 20, ms(100)), ms(100));
    }

    #[test]
    fn margins_and_refusals() {
        assert_eq!(
            default_margin(Duration::from_secs(60)),
            Duration::from_millis(1_200)
        );
        assert_eq!(
            default_margin(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
        assert_eq!(
            default_span(RateSpec::UPSTREAM),
            Duration::from_millis(61_200)
        );
        let full = WindowRefusal::Full {
            retry_after: Duration::from_secs(3),
        };
        assert_eq!(BffError::from(full).status(), 429);
        assert_eq!(BffError::from(WindowRefusal::Unavailable).status(), 503);
    }
}
