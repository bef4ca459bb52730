//! Counted slots with a total cap and a cap per client address: the
//! connections (`super::admission`) and the event streams
//! (`crate::http::events`) are held this way.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The address a per-client cap counts by: an IPv4 address, or the /64 an
/// IPv6 address is in (one host is routinely given a whole /64, so counting
/// single IPv6 addresses would cap nothing). IPv4-mapped IPv6 addresses count
/// as their IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientAddr {
    /// An IPv4 address.
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6Prefix(u64),
}

impl ClientAddr {
    /// The address `ip` counts as.
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => Self::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Every slot is taken.
    Full,
    /// The client's address holds its share.
    PerAddress,
}

/// Slots: at most `total` held at once, at most `per_address` by one address.
#[derive(Debug)]
pub(crate) struct Slots {
    total: usize,
    per_address: usize,
    held: Mutex<Held>,
}

/// At most this many connections are admitted over the cap while the idle
/// ones closed for them are still closing (their tasks have not run yet);
/// past it, the accept loop stops accepting until one has closed (newcomers
/// wait in the listen backlog, holding no descriptor), and a newcomer that
/// still gets here is refused as when nothing is idle. Without a bound,
/// a burst of connections accepted before any victim's task ran took up to
/// tokio's budget of 128 accepts over the cap, the whole descriptor reserve
/// (`--fd-reserve`), and the next accept failed with "Too many open files".
pub(crate) const MAX_CLOSING: usize = 16;

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_address: HashMap<ClientAddr, usize>,
}

impl Slots {
    /// Slots capped at `total`, and at `per_address` for one address.
    pub(crate) fn new(total: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_address,
            held: Mutex::new(Held::default()),
        })
    }

    /// The cap per address.
    pub(crate) fn per_address(&self) -> usize {
        self.per_address
    }

    /// Takes a slot for `addr` (`None`: an address unknown, counted in the
    /// total only), unless the caps say no.
    pub(crate) fn take(self: &Arc<Self>, addr: Option<ClientAddr>) -> Result<Slot, Refused> {
        self.take_with(addr, false)
    }

    /// Takes a slot for `addr` even when every slot is taken (the caller has
    /// just freed one that is still closing), but never more than
    /// [`MAX_CLOSING`] over the total; the per-address cap holds.
    pub(crate) fn take_over_total(
        self: &Arc<Self>,
        addr: Option<ClientAddr>,
    ) -> Result<Slot, Refused> {
        self.take_with(addr, true)
    }

    fn take_with(
        self: &Arc<Self>,
        addr: Option<ClientAddr>,
        over_total: bool,
    ) -> Result<Slot, Refused> {
        let mut held = self.lock();
        if let Some(addr) = addr {
            let count = held.by_address.get(&addr).copied().unwrap_or(0);
            if count >= self.per_address {
                return Err(Refused::PerAddress);
            }
            if !self.room(held.total, over_total) {
                return Err(Refused::Full);
            }
            held.by_address.insert(addr, count + 1);
        } else if !self.room(held.total, over_total) {
            return Err(Refused::Full);
        }
        held.total += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            addr,
        })
    }

    /// Whether one more fits beside `held`: under the total, or, for a
    /// newcomer that closed a victim, under the total and the victims still
    /// closing.
    fn room(&self, held: usize, over_total: bool) -> bool {
        let cap = if over_total {
            self.total.saturating_add(MAX_CLOSING)
        } else {
            self.total
        };
        held < cap
    }

    /// Slots held now.
    pub(crate) fn held(&self) -> usize {
        self.lock().total
    }

    /// Whether as many slots are held over the total as may be
    /// ([`MAX_CLOSING`]).
    pub(crate) fn too_many_closing(&self) -> bool {
        !self.room(self.held(), true)
    }

    // A panic while the lock is held cannot leave the counts half-updated
    // (every update is one statement), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn give_back(&self, addr: Option<ClientAddr>) {
        let mut held = self.lock();
        held.total = held.total.saturating_sub(1);
        if let Some(addr) = addr {
            if let Some(count) = held.by_address.get_mut(&addr) {
                *count -= 1;
                if *count == 0 {
                    held.by_address.remove(&addr);
                }
            }
        }
    }
}

/// A slot held; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    addr: Option<ClientAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.give_back(self.addr);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn v4(last: u8) -> Option<ClientAddr> {
        Some(ClientAddr::of(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))))
    }

    #[test]
    fn caps_the_total_and_each_address_and_gives_slots_back() {
        let slots = Slots::new(3, 2);
        let a1 = slots.take(v4(1)).unwrap();
        let _a2 = slots.take(v4(1)).unwrap();
        assert_eq!(slots.take(v4(1)).unwrap_err(), Refused::PerAddress);
        let _b1 = slots.take(v4(2)).unwrap();
        assert_eq!(slots.take(v4(3)).unwrap_err(), Refused::Full);
        assert_eq!(slots.take(None).unwrap_err(), Refused::Full);
        drop(a1);
        assert_eq!(slots.held(), 2);
        let _a3 = slots.take(v4(1)).unwrap();
        // Over the total only when the caller freed one; never over an address's share.
        let _c = slots.take_over_total(v4(3)).unwrap();
        assert_eq!(slots.held(), 4);
        assert_eq!(
            slots.take_over_total(v4(1)).unwrap_err(),
            Refused::PerAddress
        );
    }

    #[test]
    fn at_most_max_closing_over_the_total() {
        let slots = Slots::new(2, 1_000);
        let _held: Vec<_> = (0..2).map(|_| slots.take(None).unwrap()).collect();
        assert!(!slots.too_many_closing());
        let over: Vec<_> = (0..MAX_CLOSING)
            .map(|i| slots.take_over_total(v4(u8::try_from(i % 200).unwrap())))
            .collect();
        assert!(over.iter().all(Result::is_ok));
        assert_eq!(slots.held(), 2 + MAX_CLOSING);
        assert!(slots.too_many_closing());
        assert_eq!(slots.take_over_total(v4(250)).unwrap_err(), Refused::Full);
        assert_eq!(slots.take_over_total(None).unwrap_err(), Refused::Full);
        drop(over);
        assert!(!slots.too_many_closing());
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientAddr::of(a.into()), ClientAddr::of(b.into()));
        assert_ne!(ClientAddr::of(a.into()), ClientAddr::of(c.into()));
        let mapped: Ipv6Addr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Some(ClientAddr::of(mapped.into())), v4(1));
    }
}
