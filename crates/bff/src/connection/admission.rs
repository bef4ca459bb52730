//! Which accepted connections are served: at most the connection cap in
//! all, at most `--max-connections-per-ip` from one address.
//!
//! At the cap, an idle connection is closed to make room (nginx does the
//! same with its idle keep-alive connections): a socket that holds a
//! descriptor and sends nothing must not lock everyone else out. The victim
//! is the oldest idle connection among a random sample, preferring ones that
//! never finished a request (the shape of an idle-socket flood), like Redis's
//! approximated LRU; a connection with a request in flight (an event stream
//! included) is never chosen. When no connection is idle, the newcomer is
//! refused with `503` and `Retry-After`: load is shed before it collapses
//! anything.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use conferbot_policy::BffError;

use super::slots::{ClientAddr, Refused, Slot, Slots};
use super::state::ConnState;

/// Connections looked at to choose one to close at the cap.
const EVICTION_SAMPLE: usize = 32;

/// The connections served, and the rules for admitting more.
#[derive(Debug)]
pub(crate) struct Admission {
    slots: Arc<Slots>,
    table: Mutex<Table>,
    max_head: usize,
}

/// Every connection served, for eviction.
#[derive(Debug, Default)]
struct Table {
    conns: Vec<Option<Arc<ConnState>>>,
    free: Vec<usize>,
    seed: u64,
}

impl Admission {
    /// At most `total` connections, `per_address` from one address; heads
    /// of at most `max_head` bytes.
    pub(crate) fn new(total: usize, per_address: usize, max_head: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Slots::new(total, per_address),
            table: Mutex::new(Table {
                seed: 0x9E37_79B9_7F4A_7C15,
                ..Table::default()
            }),
            max_head,
        })
    }

    /// Admits a connection from `peer` (closing an idle one at the cap), or
    /// says why not: `429` over the address's share, `503` at the cap with
    /// nothing idle to close.
    pub(crate) fn admit(self: &Arc<Self>, peer: SocketAddr) -> Result<Ticket, BffError> {
        let addr = Some(ClientAddr::of(peer.ip()));
        let per_address = || BffError::ClientLimit {
            what: "connections",
            limit: self.slots.per_address(),
        };
        let slot = match self.slots.take(addr) {
            Ok(slot) => slot,
            Err(Refused::PerAddress) => return Err(per_address()),
            Err(Refused::Full) => {
                // Not when enough victims are still closing
                // (`slots::MAX_CLOSING`): no idle connection is closed for a
                // newcomer that could not take its place.
                if self.slots.too_many_closing() || !self.evict_one() {
                    return Err(BffError::Overloaded("connections"));
                }
                // The victim's slot frees when its task ends, in a moment.
                self.slots
                    .take_over_total(addr)
                    .map_err(|refused| match refused {
                        Refused::PerAddress => per_address(),
                        Refused::Full => BffError::Overloaded("connections"),
                    })?
            }
        };
        let conn = Arc::new(ConnState::new(peer, self.max_head));
        let index = self.lock().insert(Arc::clone(&conn));
        Ok(Ticket {
            admission: Arc::clone(self),
            index,
            conn,
            _slot: slot,
        })
    }

    /// Connections served now.
    pub(crate) fn open(&self) -> usize {
        self.slots.held()
    }

    /// Whether as many connections closed to make room are still closing
    /// as may be: the accept loop waits for them before accepting more.
    pub(crate) fn too_many_closing(&self) -> bool {
        self.slots.too_many_closing()
    }

    /// Closes the best idle connection of a sample; whether there was one.
    fn evict_one(&self) -> bool {
        let mut table = self.lock();
        let len = table.conns.len();
        let picks: Vec<usize> = if len <= EVICTION_SAMPLE * 2 {
            (0..len).collect()
        } else {
            (0..EVICTION_SAMPLE)
                .map(|_| table.random_below(len))
                .collect()
        };
        let victim = picks
            .into_iter()
            .filter_map(|i| table.conns.get(i).and_then(Option::as_ref))
            .filter(|conn| conn.is_idle() && !conn.close_asked())
            .min_by_key(|conn| (conn.has_served(), conn.idle_since_ms()));
        match victim {
            Some(conn) => {
                tracing::debug!(peer = %conn.peer, "connection cap reached: closing an idle connection");
                conn.close();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every update of the table is a single statement: a poisoned lock
        // still holds a consistent table.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Table {
    fn insert(&mut self, conn: Arc<ConnState>) -> usize {
        match self.free.pop() {
            Some(index) => {
                if let Some(entry) = self.conns.get_mut(index) {
                    *entry = Some(conn);
                }
                index
            }
            None => {
                self.conns.push(Some(conn));
                self.conns.len() - 1
            }
        }
    }

    fn remove(&mut self, index: usize) {
        if let Some(entry) = self.conns.get_mut(index) {
            *entry = None;
            self.free.push(index);
        }
    }

    /// xorshift64: sampling needs no cryptographic randomness, only spread.
    fn random_below(&mut self, n: usize) -> usize {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x % n as u64) as usize
    }
}

/// An admitted connection: its state, its slot; both given back on drop.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    index: usize,
    conn: Arc<ConnState>,
    _slot: Slot,
}

impl Ticket {
    /// The connection's state.
    pub(crate) fn conn(&self) -> &Arc<ConnState> {
        &self.conn
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.lock().remove(self.index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(last: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, last], port))
    }

    #[tokio::test]
    async fn at_the_cap_an_idle_connection_makes_room_and_busy_ones_never_do() {
        let admission = Admission::new(2, 10, 8192);
        let first = admission.admit(peer(1, 1)).unwrap();
        let second = admission.admit(peer(1, 2)).unwrap();
        // Both idle: the third closes the older one.
        let third = admission.admit(peer(2, 3)).unwrap();
        assert!(first.conn().close_asked());
        assert!(!second.conn().close_asked());
        drop(first);
        // Everyone busy: refused with 503.
        let _busy = [
            second.conn().request_started(),
            third.conn().request_started(),
        ];
        let err = admission.admit(peer(3, 4)).unwrap_err();
        assert_eq!(err, BffError::Overloaded("connections"));
        assert_eq!(admission.open(), 2);
    }

    #[tokio::test]
    async fn one_address_gets_its_share_only() {
        let admission = Admission::new(100, 2, 8192);
        let _a = admission.admit(peer(1, 1)).unwrap();
        let _b = admission.admit(peer(1, 2)).unwrap();
        let err = admission.admit(peer(1, 3)).unwrap_err();
        assert_eq!(err.status(), 429);
        assert!(admission.admit(peer(2, 1)).is_ok());
    }
}
