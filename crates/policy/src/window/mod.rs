//! Traffic shaping: a sliding window in front of the upstream, with a fair
//! queue by client instead of failures, as a state machine over time in
//! milliseconds.
//!
//! The upstream allows `max` requests per sliding `window` per key (60/60s).
//! A request is admitted when fewer than `max` were sent within the last
//! `window + margin`; otherwise it waits. The margin absorbs the difference
//! between the time we send and the time the upstream counts (network and
//! scheduling delay, and the millisecond resolution here), so our window is
//! always a little stricter than theirs and a burst through the BFF never
//! earns an upstream `429`. An upstream `429` still pauses the queue for its
//! `Retry-After` ([`pause_after_429`]).
//!
//! The key is shared by every client of the BFF, so the queue is fair
//! between clients ([`ClientId`], an input: the address, or the user the
//! authorisation step named). Each client's requests keep their order;
//! waiting clients take freed slots in turn, those under their share first;
//! and each client is paced to its share (`--client-share`, 10 % by default:
//! 6 calls in any 6.1 s at 60/60s), so one client alone still gets the whole
//! rate, but a burst of 2,000 from one client leaves slots freeing every
//! second for the others, instead of the whole window for a minute.
//! [`fair`] has the rules.
//!
//! Each waiter holds a [`Ticket`] and [`Window::poll`]s. Every poll first
//! hands the free slots to whoever's turn it is (granting them, even to
//! waiters that are not polling now: [`Window::take_news`] says when to wake
//! the others), then answers the poller: admitted, or when to poll again (the
//! next moment a slot could be granted to anyone, or its own estimated turn
//! if sooner), or refused at once when its estimated turn is past its
//! deadline. A client over its monthly cap ([`crate::spend`]) is refused at
//! [`Window::join`]. The Redis window (`window.lua`) runs the same rules in
//! Redis for every replica; [`shared`] is its caller's side.

pub mod fair;
pub mod shared;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use conferbot::RateSpec;
use rustc_hash::FxHashMap;

pub use self::fair::Share;
use self::fair::{rank, slot_time, ClientQueue};
pub use self::shared::{shared_nap, LEASE, MAX_NAP, MIN_NAP};
use crate::client::ClientId;
use crate::error::BffError;
use crate::quota_headers::MinuteView;
use crate::spend::{MonthlySpend, Spent};

/// Upstream calls per request at most (the first and two after 429s).
pub const MAX_ATTEMPTS: u32 = 3;
/// Longest pause an upstream `429` imposes: a monthly-quota answer may ask
/// for days, and the BFF must recover by itself once the quota is raised.
pub const MAX_PAUSE: Duration = Duration::from_secs(300);
/// Pause when a `429` comes without a usable `Retry-After`.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);
/// Clients kept beyond those waiting (their sends still in the span) before
/// the ones with nothing left are swept.
pub const SWEEP_ABOVE: usize = 1024;

/// The default safety margin for a window: 2%, at least 200 ms (1.2 s at 60/60s).
pub fn default_margin(window: Duration) -> Duration {
    (window / 50).max(Duration::from_millis(200))
}

/// The span sends are counted over: the window plus the default margin.
pub fn default_span(spec: RateSpec) -> Duration {
    spec.window + default_margin(spec.window)
}

/// A place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

/// What a poll of the window says to one waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Send now: the send is counted.
    Admitted,
    /// Not yet: poll again at this time (ms), or sooner if woken.
    WaitUntil(u64),
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
    /// The client has made its monthly calls (`--client-monthly-calls`).
    ClientSpent(Spent),
    /// The shared window is unreachable: no turn can be granted safely, so
    /// none is (fail closed).
    Unavailable,
}

impl From<WindowRefusal> for BffError {
    fn from(refusal: WindowRefusal) -> Self {
        match refusal {
            WindowRefusal::Full { retry_after } => BffError::QueueTimeout { retry_after },
            WindowRefusal::ClientSpent(spent) => BffError::ClientMonthSpent {
                cap: spent.cap,
                retry_after: spent.retry_after,
            },
            WindowRefusal::Unavailable => BffError::SharedStateUnavailable,
        }
    }
}

/// The sliding window of one API key, with its fair queue of waiters.
#[derive(Debug, Clone)]
pub struct Window {
    max: usize,
    span: u64,
    share: Share,
    /// Send times still inside the span, oldest first.
    sent: VecDeque<u64>,
    /// Set by an upstream `429`: nothing is admitted before this time.
    paused_until: u64,
    /// Clients that wait or have sends in the span.
    clients: HashMap<ClientId, ClientQueue>,
    /// The clients that wait (the order is decided among them only).
    waiting: HashSet<ClientId>,
    /// Whose each waiting or granted ticket is. (Tickets are the window's
    /// own sequence numbers: hashed with Fx, not SipHash, which guards maps
    /// whose keys an attacker picks, like `clients`.)
    owners: FxHashMap<Ticket, ClientId>,
    /// Tickets granted a turn that their waiter has not taken yet, and when.
    granted: FxHashMap<Ticket, u64>,
    /// Monthly calls per client, with `--client-monthly-calls`.
    spend: Option<MonthlySpend>,
    /// Whether others should poll again (turns granted, tickets gone).
    news: bool,
    next_ticket: u64,
    /// Turns granted so far: the number of the last one.
    grants: u64,
}

impl Window {
    /// A window for `spec` with the default margin, each client paced to
    /// `share_percent` of it.
    pub fn new(spec: RateSpec, share_percent: u8) -> Self {
        Self::with_margin(spec, default_margin(spec.window), share_percent)
    }

    /// A window for `spec` with an explicit safety `margin`.
    pub fn with_margin(spec: RateSpec, margin: Duration, share_percent: u8) -> Self {
        let max = usize::try_from(spec.max.max(1)).unwrap_or(usize::MAX);
        let span = millis(spec.window + margin);
        Self {
            max,
            span,
            share: Share::of(share_percent, max, span),
            sent: VecDeque::new(),
            paused_until: 0,
            clients: HashMap::new(),
            waiting: HashSet::new(),
            owners: FxHashMap::default(),
            granted: FxHashMap::default(),
            spend: None,
            news: false,
            next_ticket: 0,
            grants: 0,
        }
    }

    /// Caps every client at `cap` calls per month (`None`: no cap).
    pub fn with_monthly_cap(mut self, cap: Option<u64>) -> Self {
        self.spend = cap.map(MonthlySpend::new);
        self
    }

    /// Each client's share of the window.
    pub fn share(&self) -> Share {
        self.share
    }

    /// Takes a place at the end of `client`'s queue, at `unix_secs` (for
    /// the monthly cap), or says the client has made its monthly calls.
    pub fn join(&mut self, client: &ClientId, unix_secs: i64) -> Result<Ticket, Spent> {
        if let Some(spend) = &mut self.spend {
            spend.reserve(client, unix_secs)?;
        }
        let ticket = Ticket(self.next_ticket);
        self.next_ticket = self.next_ticket.wrapping_add(1);
        match self.clients.get_mut(client) {
            Some(queue) => queue.waiting.push_back(ticket),
            None => {
                let mut queue = ClientQueue::default();
                queue.waiting.push_back(ticket);
                self.clients.insert(client.clone(), queue);
            }
        }
        if !self.waiting.contains(client) {
            self.waiting.insert(client.clone());
        }
        self.owners.insert(ticket, client.clone());
        Ok(ticket)
    }

    /// Leaves without taking a turn (refused, or the request went away): a
    /// turn granted but not taken is given back, and so is the monthly
    /// reservation. Waiters behind it move up: [`Window::take_news`] says so.
    pub fn leave(&mut self, ticket: Ticket) {
        let Some(client) = self.owners.remove(&ticket) else {
            return;
        };
        if let Some(queue) = self.clients.get_mut(&client) {
            match self.granted.remove(&ticket) {
                Some(at) => {
                    queue.unsend(at);
                    if let Some(i) = self.sent.iter().rposition(|&t| t == at) {
                        self.sent.remove(i);
                    }
                }
                None => {
                    queue.waiting.retain(|t| *t != ticket);
                    if queue.waiting.is_empty() {
                        self.waiting.remove(&client);
                    }
                }
            }
        }
        if let Some(spend) = &mut self.spend {
            spend.refund(&client);
        }
        self.news = true;
    }

    /// How many wait (turns granted but not taken included).
    pub fn queued(&self) -> usize {
        self.owners.len()
    }

    /// Whether other waiters should poll again since the last call: turns
    /// were granted to them, or tickets left.
    pub fn take_news(&mut self) -> bool {
        std::mem::take(&mut self.news)
    }

    /// Where `ticket` stands at `now`, refusing it when its turn would come
    /// after `deadline`. A ticket not in the queue (it left) is refused.
    pub fn poll(&mut self, ticket: Ticket, now: u64, deadline: u64) -> Turn {
        self.expire(now);
        self.grant(now);
        if self.granted.remove(&ticket).is_some() {
            self.owners.remove(&ticket);
            return Turn::Admitted;
        }
        let Some(client) = self.owners.get(&ticket).cloned() else {
            return Turn::Refused { retry_after_ms: 0 };
        };
        let estimate = self.estimate(&client, ticket, now).max(now + 1);
        if estimate > deadline {
            self.leave(ticket);
            return Turn::Refused {
                retry_after_ms: estimate - now,
            };
        }
        let wake = self.next_grant(now).map_or(estimate, |at| at.min(estimate));
        Turn::WaitUntil(wake.max(now + 1))
    }

    /// Stops admitting until `now + duration` (an upstream `429` said
    /// `Retry-After`). A longer pause already in force is kept.
    pub fn pause(&mut self, now: u64, duration: Duration) {
        self.paused_until = self.paused_until.max(now.saturating_add(millis(duration)));
        self.news = true;
    }

    /// What the window would admit at `now`, for the quota headers: sends
    /// left within the span (none while paused or while others wait; a turn
    /// granted but not taken counts as a send), and when the oldest send
    /// leaves it. The whole window's, not one client's share of it.
    pub fn room(&self, now: u64) -> MinuteView {
        // `sent` is oldest first, so the sends that left the span are a
        // prefix: found by binary search, not by a walk over every send of
        // the span (at a high `--rate` that is thousands per answer).
        let expired = self.expired(now);
        let live = self.sent.len() - expired;
        let waiting = self.owners.len().saturating_sub(self.granted.len());
        let paused = self.paused_until > now;
        let free = self.max.saturating_sub(live + waiting);
        let remaining = if paused { 0 } else { free };
        let reset_ms = if paused {
            self.paused_until - now
        } else if remaining > 0 {
            0
        } else {
            self.sent
                .get(expired)
                .map_or(0, |&t| t.saturating_add(self.span).saturating_sub(now))
        };
        MinuteView {
            limit: u32::try_from(self.max).unwrap_or(u32::MAX),
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset_ms,
        }
    }

    /// How many of the oldest sends have left the span at `now`.
    fn expired(&self, now: u64) -> usize {
        self.sent
            .partition_point(|&t| now.saturating_sub(t) >= self.span)
    }

    /// Forgets sends older than the span: the window's, the waiting
    /// clients', and (once they outnumber the waiting ones by
    /// [`SWEEP_ABOVE`]) the clients with nothing left.
    fn expire(&mut self, now: u64) {
        while self
            .sent
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= self.span)
        {
            self.sent.pop_front();
        }
        let span = self.span;
        for client in &self.waiting {
            if let Some(queue) = self.clients.get_mut(client) {
                queue.expire(now, span);
            }
        }
        if self.clients.len() > self.waiting.len() + SWEEP_ABOVE {
            self.clients.retain(|_, queue| {
                queue.expire(now, span);
                !queue.is_idle()
            });
        }
    }

    /// Grants every free slot at `now`, each to the first in the order
    /// among the clients whose pacing lets them send.
    fn grant(&mut self, now: u64) {
        if now < self.paused_until {
            return;
        }
        while self.sent.len() < self.max {
            let share = self.share;
            let clients = &self.clients;
            let best = self
                .waiting
                .iter()
                .filter_map(|client| Some((client, clients.get(client)?)))
                .filter(|(_, q)| q.paced_ready(now, &share))
                .filter_map(|(client, q)| Some((q.key(&share)?, client)))
                .min()
                .map(|(_, client)| client.clone());
            let Some(best) = best else {
                break;
            };
            let Some(queue) = self.clients.get_mut(&best) else {
                break;
            };
            let Some(ticket) = queue.waiting.pop_front() else {
                break;
            };
            if queue.waiting.is_empty() {
                self.waiting.remove(&best);
            }
            queue.sent.push_back(now);
            self.grants += 1;
            queue.last_served = self.grants;
            self.sent.push_back(now);
            self.granted.insert(ticket, now);
            self.news = true;
        }
    }

    /// When `ticket` of `client` is likely admitted, queue unchanged: after
    /// its own earlier tickets and its pacing, and after the sends that go
    /// before it taking turns (`fair::rank`), and the pause.
    fn estimate(&self, client: &ClientId, ticket: Ticket, now: u64) -> u64 {
        let share = self.share;
        let Some(queue) = self.clients.get(client) else {
            return now;
        };
        let k = queue.waiting.binary_search(&ticket).unwrap_or(0);
        let Some(mine) = queue.key(&share) else {
            return now;
        };
        let others = self
            .waiting
            .iter()
            .filter(|other| *other != client)
            .filter_map(|other| self.clients.get(other))
            .filter_map(|q| Some((q.waiting.len(), q.key(&share)?)));
        let ahead = rank(k, mine, others);
        let global = slot_time(&self.sent, 0, self.max, self.span, ahead, now);
        let paced = queue.pacing_time(k, now, &share);
        global.max(paced).max(self.paused_until)
    }

    /// The next moment a slot could be granted to anyone (`None`: nobody
    /// waits): the pause's end, the oldest send leaving a full window, or
    /// the first waiting client's pacing letting it send.
    fn next_grant(&self, now: u64) -> Option<u64> {
        let share = self.share;
        let mut waiting = self
            .waiting
            .iter()
            .filter_map(|client| self.clients.get(client));
        let first = waiting.next()?;
        if self.paused_until > now {
            return Some(self.paused_until);
        }
        if self.sent.len() >= self.max {
            return self.sent.front().map(|&t| t.saturating_add(self.span));
        }
        std::iter::once(first)
            .chain(waiting)
            .map(|q| q.pacing_time(0, now, &share))
            .min()
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

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
