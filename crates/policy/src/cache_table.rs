//! The in-process read cache as a table: which answers are held, how fresh
//! they are, which reads are in flight, and what a finished read or a change
//! does to them. The npm server half runs the same table.
//!
//! A read is keyed by its [`Target`]. The first request for a key *leads*: the
//! server starts the upstream call and registers its handle (a shared future
//! under tokio, a promise in JS); everyone asking for the key meanwhile
//! *joins* that handle. When the call ends the server [`settle`]s it.
//!
//! A held answer is, by its age (since it was fetched upstream):
//! - **fresh** while younger than `fresh` (`--cache-ttl`): a hit;
//! - **stale** after that, for `stale` more (`--cache-stale`): served at once,
//!   marked stale, and *revalidated*: the first request that finds it due
//!   gets a [`CallId`] to refresh it in the background, and no other call is
//!   made for that key for an interval (at least `fresh`, stretched by the
//!   monthly budget, [`crate::quota`]) whatever happens to that refresh;
//! - **gone** after `fresh + stale`: the next read leads a call.
//!
//! A change ([`Invalidation`]) patches held answers in place or marks them
//! stale ([`Effect`]); a stale-marked answer is read again by the next
//! request (which waits for it; when an event marked it, under a budget at
//! most once per interval, [`Spend::reread_ms`]; a write's is read again at
//! once, [`Invalidation::urgent`]), and a refresh or read in flight that the change
//! touches is not stored (its answer may predate it). When the
//! upstream must not be called (the month is spent, [`Spend`]), what is held
//! is served, marked stale, whatever its age; and when a call fails in a way
//! that says nothing about the data (`429`, `5xx`, the BFF's own refusals),
//! the answer held before it is served instead ([`Settled::Fallback`]).
//! Time is a parameter (milliseconds on the caller's clock).
//!
//! [`settle`]: CacheTable::settle

use std::hash::RandomState;
use std::time::Duration;

use conferbot::{Method, Operation};
use hashbrown::hash_map::EntryRef;
use hashbrown::HashMap;

use crate::invalidation::{Effect, Invalidation};
use crate::quota::Spend;
use crate::route::Target;
use crate::settings::MAX_CACHE_ENTRIES;

/// Above this many keys, answers past their lifetime are swept on insert.
pub const SWEEP_ABOVE: usize = 256;

/// What the table needs to know of a cached answer.
pub trait CachedAnswer: Clone {
    /// Its HTTP status: only successes are kept.
    fn status(&self) -> u16;
    /// Its body, for the rules that look at it.
    fn body(&self) -> &[u8];
    /// The same answer with another body (a patch applied).
    fn with_body(&self, body: Vec<u8>) -> Self;
}

impl<T: CachedAnswer> CachedAnswer for std::sync::Arc<T> {
    fn status(&self) -> u16 {
        T::status(self)
    }
    fn body(&self) -> &[u8] {
        T::body(self)
    }
    fn with_body(&self, body: Vec<u8>) -> Self {
        std::sync::Arc::new(T::with_body(self, body))
    }
}

/// How long answers stay fresh, then servable while revalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Served as a hit this long after they were fetched (zero: not kept).
    pub fresh: Duration,
    /// Then served at once, marked stale, while one call refreshes them.
    pub stale: Duration,
}

/// Names one call, so that only its own result settles its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId(u64);

/// How a lookup was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<A, P> {
    /// A fresh answer: no call.
    Hit {
        /// The answer.
        answer: A,
        /// Milliseconds since it was fetched upstream.
        age_ms: u64,
    },
    /// A held answer past its freshness (or marked stale while the upstream
    /// must not be called): serve it at once, marked stale.
    Stale {
        /// The answer.
        answer: A,
        /// Milliseconds since it was fetched upstream.
        age_ms: u64,
        /// When set, this request found it due: refresh it in the background
        /// with this call id and settle it.
        refresh: Option<CallId>,
    },
    /// A call for this key is in flight: await its handle.
    Joined(P),
    /// This request leads: the handle `lead` made is registered; settle it
    /// with the call id when the call ends.
    Led(CallId, P),
}

/// How a call ended, as [`CacheTable::settle`] takes it.
#[derive(Debug, Clone, Copy)]
pub enum Finished<'a, A> {
    /// With an answer from the upstream (any status).
    Answer(&'a A),
    /// Without one: the BFF's own error, with its status.
    Failed {
        /// The error's HTTP status.
        status: u16,
    },
}

/// What settling did, and what the awaiting requests get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled<A> {
    /// The call's outcome is theirs (stored if it was a success).
    Passed,
    /// The call failed in a way that says nothing about the data: serve the
    /// answer held before it instead, marked stale.
    Fallback {
        /// The answer held.
        answer: A,
        /// Milliseconds since it was fetched upstream.
        age_ms: u64,
    },
}

#[derive(Debug, Clone)]
struct Entry<A> {
    answer: A,
    fetched_at: u64,
    /// When a revalidation last began (the fetch, at first).
    checked_at: u64,
    /// A change made it stale: read it again before serving it as current.
    marked: bool,
    /// A write made it stale: read again at once, not at the budget's pace.
    urgent: bool,
    /// Last served, for evicting the least recently used past the bound.
    used_at: u64,
}

#[derive(Debug)]
enum Slot<A, P> {
    Held {
        entry: Entry<A>,
        /// The background refresh in flight that may store its answer.
        refresh: Option<CallId>,
    },
    Pending {
        call: CallId,
        handle: P,
        /// What was held before, served if the call fails.
        fallback: Option<Entry<A>>,
    },
}

/// Held answers and reads in flight, by target. `A` is the answer as the
/// server shares it, `P` the handle of a call in flight.
#[derive(Debug)]
pub struct CacheTable<A, P> {
    fresh_ms: u64,
    lifetime_ms: u64,
    /// hashbrown's map for its `entry_ref`: a key is hashed once per
    /// lookup and once per settle, not once per `get` and again per
    /// `insert`/`remove`. SipHash (std's `RandomState`) all the same: the
    /// keys are the clients' paths and queries.
    slots: HashMap<Target, Slot<A, P>, RandomState>,
    next_call: u64,
}

impl<A: CachedAnswer, P: Clone> CacheTable<A, P> {
    /// A table keeping successful answers as `freshness` says (a zero
    /// `fresh`: coalescing only).
    pub fn new(freshness: Freshness) -> Self {
        let fresh_ms = millis(freshness.fresh);
        Self {
            fresh_ms,
            lifetime_ms: fresh_ms.saturating_add(millis(freshness.stale)),
            slots: HashMap::with_hasher(RandomState::new()),
            next_call: 0,
        }
    }

    /// The answer for `key` at `now`, given what may be spent: held (fresh
    /// or stale, maybe with a refresh to run), joined, or led with the
    /// handle `lead` makes for the new call.
    pub fn lookup(
        &mut self,
        key: &Target,
        now: u64,
        spend: Spend,
        lead: impl FnOnce(CallId) -> P,
    ) -> Lookup<A, P> {
        let lifetime = self.lifetime_ms;
        let fresh = self.fresh_ms;
        if self.slots.len() > SWEEP_ABOVE && !self.slots.contains_key(key) {
            // Room for a new key first (the sweep may drop held answers, never
            // this key's, which has none); below the sweep's bound a new key
            // costs nothing more.
            self.make_room(now);
        }
        let mut slot = match self.slots.entry_ref(key) {
            EntryRef::Occupied(slot) => slot,
            EntryRef::Vacant(vacant) => {
                let (pending, led) = led(&mut self.next_call, lead, None);
                vacant.insert(pending);
                return led;
            }
        };
        let fallback = match slot.get_mut() {
            Slot::Pending { handle, .. } => return Lookup::Joined(handle.clone()),
            Slot::Held { entry, refresh } => {
                let age_ms = now.saturating_sub(entry.fetched_at);
                entry.used_at = now;
                let current = !entry.marked && age_ms < lifetime;
                if current && age_ms < fresh {
                    return Lookup::Hit {
                        answer: entry.answer.clone(),
                        age_ms,
                    };
                }
                // A read an event changed waits for its turn under a budget.
                let paced = entry.marked
                    && !entry.urgent
                    && age_ms < lifetime
                    && now < entry.checked_at.saturating_add(spend.reread_ms);
                if current || !spend.may_call || paced {
                    let due = current
                        && spend.may_call
                        && refresh.is_none()
                        && now
                            >= entry
                                .checked_at
                                .saturating_add(spend.interval_ms.max(fresh));
                    let call = due.then(|| {
                        entry.checked_at = now;
                        new_call(&mut self.next_call)
                    });
                    if call.is_some() {
                        *refresh = call;
                    }
                    return Lookup::Stale {
                        answer: entry.answer.clone(),
                        age_ms,
                        refresh: call,
                    };
                }
                entry.clone()
            }
        };
        let (pending, led) = led(&mut self.next_call, lead, Some(fallback));
        slot.insert(pending);
        led
    }

    /// Ends the call `call` for `key` at `now`. A success is kept (fresh
    /// from now); a failure frees the slot, or restores what was held before
    /// when the failure says nothing about the data ([`falls_back`]). A slot
    /// that a change touched or another call took meanwhile is left alone.
    pub fn settle(
        &mut self,
        key: &Target,
        call: CallId,
        finished: Finished<'_, A>,
        now: u64,
    ) -> Settled<A> {
        let status = match finished {
            Finished::Answer(answer) => answer.status(),
            Finished::Failed { status } => status,
        };
        let kept = match finished {
            Finished::Answer(answer) if is_success(status) && self.fresh_ms > 0 => Some(answer),
            _ => None,
        };
        let fresh = |answer: &A| Slot::Held {
            entry: Entry {
                answer: answer.clone(),
                fetched_at: now,
                checked_at: now,
                marked: false,
                urgent: false,
                used_at: now,
            },
            refresh: None,
        };
        let EntryRef::Occupied(mut slot) = self.slots.entry_ref(key) else {
            return Settled::Passed;
        };
        match slot.get_mut() {
            Slot::Pending {
                call: c, fallback, ..
            } if *c == call => {
                if let Some(answer) = kept {
                    slot.insert(fresh(answer));
                    return Settled::Passed;
                }
                match fallback.take() {
                    Some(entry) if falls_back(status) && !is_success(status) => {
                        let answer = entry.answer.clone();
                        let age_ms = now.saturating_sub(entry.fetched_at);
                        slot.insert(Slot::Held {
                            entry,
                            refresh: None,
                        });
                        Settled::Fallback { answer, age_ms }
                    }
                    _ => {
                        slot.remove();
                        Settled::Passed
                    }
                }
            }
            Slot::Held { refresh, .. } if *refresh == Some(call) => {
                *refresh = None;
                if let Some(answer) = kept {
                    slot.insert(fresh(answer));
                } else if !falls_back(status) && !is_success(status) {
                    // The upstream says the read is gone (a 404): so is ours.
                    slot.remove();
                }
                Settled::Passed
            }
            _ => Settled::Passed,
        }
    }

    /// Applies a change: patches held answers, marks them stale, and keeps
    /// touched calls in flight from storing their answers.
    pub fn apply(&mut self, change: &Invalidation) {
        if change.is_empty() {
            return;
        }
        self.slots.retain(|key, slot| match slot {
            Slot::Pending { .. } => !change.matches(key),
            Slot::Held { entry, refresh } => {
                match change.effect(key, entry.answer.body()) {
                    Effect::Unchanged => {}
                    Effect::Patched(body) => {
                        entry.answer = entry.answer.with_body(body);
                        *refresh = None;
                    }
                    Effect::Stale => {
                        entry.marked = true;
                        entry.urgent |= change.urgent();
                        *refresh = None;
                    }
                }
                true
            }
        });
    }

    /// How many answers are held (the keys a budget spreads its calls over).
    pub fn held(&self) -> usize {
        self.slots
            .values()
            .filter(|slot| matches!(slot, Slot::Held { .. }))
            .count()
    }

    /// How many keys have a slot (held or in flight).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no key has a slot.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Before a new key: sweeps answers past their lifetime above
    /// [`SWEEP_ABOVE`] keys, and evicts the least recently served beyond
    /// [`MAX_CACHE_ENTRIES`].
    fn make_room(&mut self, now: u64) {
        if self.slots.len() <= SWEEP_ABOVE {
            return;
        }
        let lifetime = self.lifetime_ms;
        self.slots.retain(|_, slot| match slot {
            Slot::Held { entry, .. } => now.saturating_sub(entry.fetched_at) < lifetime,
            Slot::Pending { .. } => true,
        });
        while self.slots.len() >= MAX_CACHE_ENTRIES {
            let oldest = self
                .slots
                .iter()
                .filter_map(|(key, slot)| match slot {
                    Slot::Held { entry, .. } => Some((entry.used_at, key)),
                    Slot::Pending { .. } => None,
                })
                .min_by_key(|(used_at, _)| *used_at)
                .map(|(_, key)| key.clone());
            match oldest {
                Some(key) => self.slots.remove(&key),
                None => break,
            };
        }
    }
}

/// The next call's id from `counter`.
fn new_call(counter: &mut u64) -> CallId {
    *counter = counter.wrapping_add(1);
    CallId(*counter)
}

/// A new call led with the handle `lead` makes (falling back to `fallback`
/// if it fails): the slot it holds, and the lookup's answer.
fn led<A, P: Clone>(
    counter: &mut u64,
    lead: impl FnOnce(CallId) -> P,
    fallback: Option<Entry<A>>,
) -> (Slot<A, P>, Lookup<A, P>) {
    let call = new_call(counter);
    let handle = lead(call);
    let pending = Slot::Pending {
        call,
        handle: handle.clone(),
        fallback,
    };
    (pending, Lookup::Led(call, handle))
}

/// Whether reads of `operation` go through the cache (and are coalesced):
/// every `GET`. Writes go straight to the upstream, then invalidate.
pub fn is_cached(operation: Operation) -> bool {
    operation.method() == Method::Get
}

/// Whether an answer with `status` may be kept: successes only.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Whether a failed call with `status` says nothing about the data, so that
/// the answer held before it is served instead: a refusal for rate or quota
/// (`429`), or a server that failed (`5xx`, the BFF's own `502`–`504`).
pub fn falls_back(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "cache_table_tests.rs"]
mod tests;
