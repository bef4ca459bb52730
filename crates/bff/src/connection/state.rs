//! One connection's state as its task, its service and its socket see it:
//! requests in flight, when it went idle, whether a head is arriving, and
//! when it must be closed ([`ConnState::deadline`]).
//!
//! The three timeouts of a connection follow from it:
//! - a head must arrive whole within `--header-read-timeout` of its first
//!   byte (a new connection's first head: of the connection's opening);
//! - a connection with nothing in flight and no head arriving may wait
//!   `--idle-timeout` for its next request;
//! - while a request is in flight there is no connection deadline: the
//!   request's own limits hold (`--body-timeout`, `--request-timeout`, the
//!   event streams' caps).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::head_scanner::{Framing, HeadScanner, Verdict};

/// "Not set" for the millisecond stamps below.
const UNSET: u64 = u64::MAX;

/// A connection's timeouts (from `ConnectionSettings`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// From a head's first byte to its end.
    pub(crate) header_read: Duration,
    /// From the end of an answer to the next head's first byte.
    pub(crate) idle: Duration,
}

impl Timeouts {
    /// How often a connection's task looks at its deadline at least: the
    /// shorter timeout, so that no deadline set meanwhile comes sooner
    /// (`lifecycle::next_check`).
    pub(crate) fn check_every(self) -> Duration {
        self.header_read.min(self.idle)
    }
}

/// See the module doc.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// The client's address.
    pub(crate) peer: SocketAddr,
    opened_ms: u64,
    in_flight: AtomicUsize,
    served: AtomicU64,
    idle_since_ms: AtomicU64,
    head_started_ms: AtomicU64,
    close: AtomicBool,
    wake: Notify,
    scanner: Mutex<HeadScanner>,
}

impl ConnState {
    /// A connection from `peer`, opened now, whose heads are limited to `max_head` bytes.
    pub(crate) fn new(peer: SocketAddr, max_head: usize) -> Self {
        let now = now_ms();
        Self {
            peer,
            opened_ms: now,
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(now),
            head_started_ms: AtomicU64::new(UNSET),
            close: AtomicBool::new(false),
            wake: Notify::new(),
            scanner: Mutex::new(HeadScanner::new(max_head)),
        }
    }

    /// Bytes arrived from the socket.
    pub(crate) fn read(&self, bytes: &[u8]) {
        let mid_head = {
            let mut scanner = self.scanner();
            scanner.read(bytes);
            scanner.mid_head()
        };
        let started = self.head_started_ms.load(Ordering::Relaxed) != UNSET;
        if mid_head && !started {
            // The task finds it at its next look (`lifecycle::next_check`
            // says why that is soon enough): no wake-up per request.
            self.head_started_ms.store(now_ms(), Ordering::Relaxed);
        } else if !mid_head && started {
            self.head_started_ms.store(UNSET, Ordering::Relaxed);
        }
    }

    /// hyper handed over an HTTP/1 request whose body is `framing`: its verdict.
    pub(crate) fn verdict(&self, framing: Framing) -> Verdict {
        self.scanner().next_request(framing)
    }

    /// A request began; it ends when the guard drops (with its answer's body).
    pub(crate) fn request_started(self: &std::sync::Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(std::sync::Arc::clone(self))
    }

    /// Whether nothing is in flight (a head may be arriving).
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Whether a request was answered on it yet (an idle-socket flood's
    /// connections never had one).
    pub(crate) fn has_served(&self) -> bool {
        self.served.load(Ordering::Relaxed) > 0
    }

    /// When it went idle (for eviction, oldest first), in ms of [`now_ms`].
    pub(crate) fn idle_since_ms(&self) -> u64 {
        self.idle_since_ms.load(Ordering::Relaxed)
    }

    /// When the connection must be closed, if nothing happens before;
    /// `None` while a request is in flight.
    pub(crate) fn deadline(&self, timeouts: Timeouts) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let head = self.head_started_ms.load(Ordering::Relaxed);
        let (since, limit) = if head != UNSET {
            (head, timeouts.header_read)
        } else if self.served.load(Ordering::Relaxed) == 0 {
            (self.opened_ms, timeouts.header_read)
        } else {
            (self.idle_since_ms(), timeouts.idle)
        };
        Some(instant_of(since) + limit)
    }

    /// Asks the connection's task to close the connection now.
    pub(crate) fn close(&self) {
        self.close.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Whether [`close`](Self::close) was asked for.
    pub(crate) fn close_asked(&self) -> bool {
        self.close.load(Ordering::Acquire)
    }

    /// Resolves when [`close`](Self::close) was asked for (deadlines are
    /// the task's timer's: `lifecycle::next_check`).
    pub(crate) async fn changed(&self) {
        self.wake.notified().await;
    }

    fn scanner(&self) -> std::sync::MutexGuard<'_, HeadScanner> {
        // Only this connection's task takes the lock, one poll at a time.
        self.scanner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A request in flight on a connection; dropped with its answer's body.
#[derive(Debug)]
pub(crate) struct InFlight(std::sync::Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.served.fetch_add(1, Ordering::Relaxed);
        conn.idle_since_ms.store(now_ms(), Ordering::Relaxed);
        // Idle again once the count is 0: the task finds the idle deadline
        // at its next look, as it does a head's.
        conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Milliseconds since the first call, on tokio's clock.
pub(crate) fn now_ms() -> u64 {
    let since = Instant::now().saturating_duration_since(epoch());
    u64::try_from(since.as_millis()).unwrap_or(UNSET - 1)
}

fn instant_of(ms: u64) -> Instant {
    epoch() + Duration::from_millis(ms)
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(75),
    };

    #[tokio::test(start_paused = true)]
    async fn the_deadline_follows_the_connection() {
        let conn = Arc::new(ConnState::new("127.0.0.1:9".parse().unwrap(), 16 * 1024));
        let opened = Instant::now();
        // A new connection: its first head within the header timeout.
        assert_eq!(
            conn.deadline(TIMEOUTS),
            Some(instant_of(conn.opened_ms) + TIMEOUTS.header_read)
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        conn.read(b"GET / HTTP/1.1\r\n\r\n");
        let request = conn.request_started();
        assert_eq!(conn.verdict(Framing::Length(0)), Verdict::Clean);
        assert_eq!(conn.deadline(TIMEOUTS), None);
        tokio::time::advance(Duration::from_secs(100)).await;
        drop(request);
        // Idle after an answer: the idle timeout, from then.
        let idle = conn.deadline(TIMEOUTS).unwrap();
        assert!(
            idle >= opened + Duration::from_secs(103) + TIMEOUTS.idle - Duration::from_millis(1)
        );
        // A head starts arriving: the header timeout, from its first byte.
        tokio::time::advance(Duration::from_secs(5)).await;
        conn.read(b"GET /");
        let head = conn.deadline(TIMEOUTS).unwrap();
        assert!(head < idle);
        assert!(head >= Instant::now() + TIMEOUTS.header_read - Duration::from_millis(1));
        conn.read(b" HTTP/1.1\r\n\r\n");
        assert_eq!(conn.deadline(TIMEOUTS), Some(idle));
    }
}
