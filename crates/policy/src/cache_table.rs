//! The in-process read cache as a table: which answers are fresh, which reads
//! are in flight, and what a finished read or a change does to them.
//!
//! A read is keyed by its [`Target`]. The first request for a key *leads*: the
//! server starts the upstream call and registers its handle (a shared future
//! under tokio, a promise in JS); everyone asking for the key meanwhile
//! *joins* that handle. When the call ends the server [`settle`]s it: a
//! success is kept for the TTL, anything else is dropped (shared with those
//! who joined, never kept). A change drops the reads it makes stale
//! ([`Invalidation`]), including calls in flight, whose answers are then not
//! stored. Time is a parameter (milliseconds on the caller's clock).
//!
//! Serving stale answers while revalidating belongs here: a fresh slot gets a
//! second deadline, and [`CacheTable::lookup`] a `Stale` outcome that serves
//! the answer and leads a refresh.
//!
//! [`settle`]: CacheTable::settle

use std::collections::HashMap;
use std::time::Duration;

use conferbot::{Method, Operation};

use crate::invalidation::{Effect, Invalidation};
use crate::route::Target;

/// Above this many entries, expired ones are swept on insert.
pub const SWEEP_ABOVE: usize = 256;

/// What the table needs to know of a cached answer.
pub trait CachedAnswer {
    /// Its HTTP status: only successes are kept.
    fn status(&self) -> u16;
    /// Its body, for the rules that look at it.
    fn body(&self) -> &[u8];
}

impl<T: CachedAnswer> CachedAnswer for std::sync::Arc<T> {
    fn status(&self) -> u16 {
        T::status(self)
    }
    fn body(&self) -> &[u8] {
        T::body(self)
    }
}

/// Names one leader's call, so that only its own result settles its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId(u64);

/// How a lookup was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<A, P> {
    /// A fresh answer: no call.
    Hit(A),
    /// A call for this key is in flight: await its handle.
    Joined(P),
    /// This request leads: the handle `lead` made is registered; settle it
    /// with the call id when the call ends.
    Led(CallId, P),
}

#[derive(Debug)]
enum Slot<A, P> {
    Fresh { answer: A, until: u64 },
    Pending { call: CallId, handle: P },
}

/// Fresh answers and reads in flight, by target. `A` is the answer as the
/// server shares it, `P` the handle of a call in flight.
#[derive(Debug)]
pub struct CacheTable<A, P> {
    ttl_ms: u64,
    slots: HashMap<Target, Slot<A, P>>,
    next_call: u64,
}

impl<A: CachedAnswer + Clone, P: Clone> CacheTable<A, P> {
    /// A table keeping successful answers for `ttl` (zero: coalescing only).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            slots: HashMap::new(),
            next_call: 0,
        }
    }

    /// The answer for `key` at `now`: fresh, joined, or led with the handle
    /// `lead` makes for the new call.
    pub fn lookup(
        &mut self,
        key: &Target,
        now: u64,
        lead: impl FnOnce(CallId) -> P,
    ) -> Lookup<A, P> {
        match self.slots.get(key) {
            Some(Slot::Fresh { answer, until }) if now < *until => {
                return Lookup::Hit(answer.clone());
            }
            Some(Slot::Pending { handle, .. }) => return Lookup::Joined(handle.clone()),
            _ => {}
        }
        if self.slots.len() > SWEEP_ABOVE {
            self.slots.retain(|_, slot| match slot {
                Slot::Fresh { until, .. } => now < *until,
                Slot::Pending { .. } => true,
            });
        }
        let call = CallId(self.next_call);
        self.next_call = self.next_call.wrapping_add(1);
        let handle = lead(call);
        self.slots.insert(
            key.clone(),
            Slot::Pending {
                call,
                handle: handle.clone(),
            },
        );
        Lookup::Led(call, handle)
    }

    /// Ends the call `call` for `key` at `now` with `answer` (`None`: it
    /// failed). A success is kept for the TTL; anything else frees the slot.
    /// A slot that was invalidated or re-led meanwhile is left alone: that
    /// answer may already be stale.
    pub fn settle(&mut self, key: &Target, call: CallId, answer: Option<&A>, now: u64) {
        let ours = matches!(self.slots.get(key), Some(Slot::Pending { call: c, .. }) if *c == call);
        if !ours {
            return;
        }
        match answer {
            Some(answer) if is_success(answer.status()) && self.ttl_ms > 0 => {
                let until = now.saturating_add(self.ttl_ms);
                self.slots.insert(
                    key.clone(),
                    Slot::Fresh {
                        answer: answer.clone(),
                        until,
                    },
                );
            }
            _ => {
                self.slots.remove(key);
            }
        }
    }

    /// Drops every fresh answer and call in flight that `stale` names.
    pub fn invalidate(&mut self, stale: &Invalidation) {
        if stale.is_empty() {
            return;
        }
        self.slots.retain(|key, slot| match slot {
            Slot::Pending { .. } => !stale.matches(key),
            Slot::Fresh { answer, .. } => match stale.effect(key, answer.body()) {
                Effect::Unchanged => true,
                Effect::Stale => false,
            },
        });
    }

    /// How many keys have a slot (fresh, expired or in flight).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no key has a slot.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
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

#[cfg(test)]
mod tests {
    use conferbot::PageRequest;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Answer(u16);

    impl CachedAnswer for Answer {
        fn status(&self) -> u16 {
            self.0
        }
        fn body(&self) -> &[u8] {
            b"{}"
        }
    }

    type Table = CacheTable<Answer, &'static str>;

    fn key(op: Operation) -> Target {
        Target {
            operation: op,
            ids: vec![],
            page: op.is_paginated().then(PageRequest::default),
        }
    }

    fn lead(table: &mut Table, key: &Target, now: u64) -> CallId {
        match table.lookup(key, now, |_| "call") {
            Lookup::Led(call, _) => call,
            other => panic!("expected to lead, got {other:?}"),
        }
    }

    #[test]
    fn the_first_leads_others_join_then_hits_until_the_ttl() {
        let mut table = Table::new(Duration::from_secs(2));
        let usage = key(Operation::GetUsage);
        let call = lead(&mut table, &usage, 0);
        assert_eq!(
            table.lookup(&usage, 10, |_| "other"),
            Lookup::Joined("call")
        );
        table.settle(&usage, call, Some(&Answer(200)), 100);
        assert_eq!(
            table.lookup(&usage, 2_099, |_| "x"),
            Lookup::Hit(Answer(200))
        );
        lead(&mut table, &usage, 2_100);
    }

    #[test]
    fn failures_and_errors_are_shared_not_kept() {
        let mut table = Table::new(Duration::from_secs(2));
        let usage = key(Operation::GetUsage);
        let call = lead(&mut table, &usage, 0);
        table.settle(&usage, call, Some(&Answer(500)), 1);
        let call = lead(&mut table, &usage, 2);
        table.settle(&usage, call, None, 3);
        assert!(table.is_empty());
    }

    #[test]
    fn a_zero_ttl_coalesces_but_never_hits() {
        let mut table = Table::new(Duration::ZERO);
        let usage = key(Operation::GetUsage);
        let call = lead(&mut table, &usage, 0);
        assert!(matches!(
            table.lookup(&usage, 0, |_| "x"),
            Lookup::Joined(_)
        ));
        table.settle(&usage, call, Some(&Answer(200)), 0);
        lead(&mut table, &usage, 0);
    }

    #[test]
    fn changes_drop_fresh_and_in_flight_reads_and_late_answers_are_not_stored() {
        let mut table = Table::new(Duration::from_secs(2));
        let hooks = key(Operation::ListWebhooks);
        let usage = key(Operation::GetUsage);
        for target in [&hooks, &usage] {
            let call = lead(&mut table, target, 0);
            table.settle(target, call, Some(&Answer(200)), 0);
        }
        let in_flight = {
            table.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
            lead(&mut table, &hooks, 10)
        };
        table.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
        table.settle(&hooks, in_flight, Some(&Answer(200)), 20);
        lead(&mut table, &hooks, 30);
        assert_eq!(table.lookup(&usage, 30, |_| "x"), Lookup::Hit(Answer(200)));
    }

    #[test]
    fn reads_are_cached_and_writes_are_not() {
        assert!(is_cached(Operation::ListChatbots) && is_cached(Operation::GetUsage));
        assert!(!is_cached(Operation::CreateWebhook) && !is_cached(Operation::DeleteWebhook));
    }

    #[test]
    fn expired_entries_are_swept_past_the_threshold() {
        let mut table = Table::new(Duration::from_millis(1));
        for page in 1..=(SWEEP_ABOVE as u32 + 2) {
            let target = Target {
                page: PageRequest::new(page, 20).ok(),
                ..key(Operation::ListChatbots)
            };
            let call = lead(&mut table, &target, 0);
            table.settle(&target, call, Some(&Answer(200)), 0);
        }
        assert_eq!(table.len(), SWEEP_ABOVE + 2);
        lead(&mut table, &key(Operation::GetUsage), 5);
        assert_eq!(table.len(), 1);
    }
}
