//! The fair part of the window: each client's queue and sends, the order in
//! which waiting clients take freed slots, and the arithmetic of slot times
//! that the in-process window and `window.lua` share.
//!
//! Order: a client that has sent fewer than its share of the window within
//! the span goes before one that has not; among equals, the one served
//! longest ago (never, or not since it was last idle, first), then the one
//! waiting longest. So
//! waiting clients take turns (round-robin), a newcomer goes before a client
//! that has had its share, and a client's own requests keep their order.
//!
//! Pacing: a client sends at most its share of the window within the same
//! share of the span (10 %: 6 calls in any 6.1 s at 60/60s). It keeps the
//! whole rate when alone, but never in one burst, so slots keep freeing up
//! for whoever comes next.

use std::collections::VecDeque;
use std::time::Duration;

use super::Ticket;

/// A client's share of the window, in percent (1 to 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// Calls per share of the span: `ceil(max × percent / 100)`, at least 1.
    pub slots: usize,
    /// That share of the span, in ms: `span × slots / max`, at least 1.
    pub span: u64,
}

impl Share {
    /// The share `percent` of a window of `max` sends per `span` ms.
    pub fn of(percent: u8, max: usize, span: u64) -> Self {
        let percent = usize::from(percent.clamp(1, 100));
        let slots = (max.saturating_mul(percent).div_ceil(100)).clamp(1, max.max(1));
        let max = u64::try_from(max.max(1)).unwrap_or(u64::MAX);
        let share = u64::try_from(slots).unwrap_or(u64::MAX);
        Self {
            slots,
            span: (span.saturating_mul(share) / max).max(1),
        }
    }

    /// The share's span as a duration.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.span)
    }
}

/// One client: its waiting tickets (in arrival order), its sends within
/// the span (oldest first), and the number of the grant it was last served
/// by (0: not since it was last idle).
#[derive(Debug, Clone, Default)]
pub(super) struct ClientQueue {
    pub(super) waiting: VecDeque<Ticket>,
    pub(super) sent: VecDeque<u64>,
    pub(super) last_served: u64,
}

/// Where a waiting client stands in the order: lower goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct OrderKey {
    /// Has sent its share within the span.
    over_share: bool,
    /// The grant it was last served by (0: none since idle, first).
    last_served: u64,
    /// Its first waiting ticket.
    head: Ticket,
}

impl ClientQueue {
    /// Forgets sends older than `span` at `now`.
    pub(super) fn expire(&mut self, now: u64, span: u64) {
        while self
            .sent
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= span)
        {
            self.sent.pop_front();
        }
    }

    /// Its place in the order, when it waits.
    pub(super) fn key(&self, share: &Share) -> Option<OrderKey> {
        Some(OrderKey {
            over_share: self.sent.len() >= share.slots,
            last_served: self.last_served,
            head: *self.waiting.front()?,
        })
    }

    /// Index of its first send within the share's span at `now` (sends are
    /// in time order: a binary search, however many it made in the span).
    pub(super) fn pacing_from(&self, now: u64, share: &Share) -> usize {
        self.sent
            .partition_point(|&t| now.saturating_sub(t) >= share.span)
    }

    /// Whether its pacing lets it send at `now`.
    pub(super) fn paced_ready(&self, now: u64, share: &Share) -> bool {
        self.sent.len() - self.pacing_from(now, share) < share.slots
    }

    /// When its `rank`-th next send (0: the next) is allowed by its pacing.
    pub(super) fn pacing_time(&self, rank: usize, now: u64, share: &Share) -> u64 {
        let from = self.pacing_from(now, share);
        slot_time(&self.sent, from, share.slots, share.span, rank, now)
    }

    /// Forgets one send made at `at` (a granted turn given back).
    pub(super) fn unsend(&mut self, at: u64) {
        if let Some(i) = self.sent.iter().rposition(|&t| t == at) {
            self.sent.remove(i);
        }
    }

    /// Whether it neither waits nor has sends in the span (it can go).
    pub(super) fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.sent.is_empty()
    }
}

/// How many sends come before the `k`-th waiting ticket (0: the first) of
/// a client with order key `mine`, with `others` the other waiting clients'
/// queue lengths and keys: its own `k` earlier tickets, and, taking turns,
/// up to `k` of each other client's (one more of those ahead in the order).
pub(super) fn rank(
    k: usize,
    mine: OrderKey,
    others: impl Iterator<Item = (usize, OrderKey)>,
) -> usize {
    others.fold(k, |rank, (len, key)| {
        rank + len.min(k) + usize::from(len > k && key < mine)
    })
}

/// When the send of `rank` (0: the next) fits a sliding window of `max`
/// sends per `span`, given the sends `times[from..]` (oldest first) at
/// `now`: the `(count - max + rank)`-th oldest must leave the span first;
/// past the sends there are, whole spans of sends (as `window.lua`).
pub(super) fn slot_time(
    times: &VecDeque<u64>,
    from: usize,
    max: usize,
    span: u64,
    rank: usize,
    now: u64,
) -> u64 {
    let max = max.max(1);
    let count = times.len().saturating_sub(from);
    let Some(index) = (count + rank).checked_sub(max) else {
        return now;
    };
    let (index, laps) = if index >= count {
        let laps = (index - count) / max + 1;
        (index.checked_sub(laps * max), laps)
    } else {
        (Some(index), 0)
    };
    let base = index
        .and_then(|i| times.get(from + i))
        .map_or(now, |&sent| sent.saturating_add(span));
    let laps = u64::try_from(laps).unwrap_or(u64::MAX);
    base.saturating_add(laps.saturating_mul(span)).max(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_up_and_scale_the_span() {
        assert_eq!(
            Share::of(10, 60, 61_200),
            Share {
                slots: 6,
                span: 6_120
            }
        );
        assert_eq!(
            Share::of(100, 60, 61_200),
            Share {
                slots: 60,
                span: 61_200
            }
        );
        assert_eq!(
            Share::of(1, 20, 2_200),
            Share {
                slots: 1,
                span: 110
            }
        );
        assert_eq!(
            Share::of(0, 1, 1_000),
            Share {
                slots: 1,
                span: 1_000
            }
        );
    }

    #[test]
    fn newcomers_and_those_under_their_share_go_first() {
        let share = Share::of(50, 4, 1_000);
        let queue = |sent: &[u64], waiting: &[u64], last_served| ClientQueue {
            waiting: waiting.iter().map(|&t| Ticket(t)).collect(),
            sent: sent.iter().copied().collect(),
            last_served,
        };
        let heavy = queue(&[0, 10], &[1], 2).key(&share).unwrap();
        let light = queue(&[20], &[9], 3).key(&share).unwrap();
        let new = queue(&[], &[12], 0).key(&share).unwrap();
        let mut keys = [heavy, light, new];
        keys.sort();
        assert_eq!(keys, [new, light, heavy]);
        // Within a tier, the client served longest ago first.
        let earlier = queue(&[5], &[30], 1).key(&share).unwrap();
        assert!(earlier < light);
    }

    #[test]
    fn ranks_interleave_clients() {
        let key = |head| OrderKey {
            over_share: false,
            last_served: 0,
            head: Ticket(head),
        };
        // Mine is the 3rd of its client's; two others wait, one ahead.
        let others = [(5, key(1)), (1, key(9))];
        assert_eq!(rank(2, key(5), others.into_iter()), 2 + 3 + 1);
        assert_eq!(rank(0, key(5), others.into_iter()), 1);
    }
}
