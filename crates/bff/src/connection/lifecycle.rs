//! One connection's task: hyper serves it, and the task closes it when its
//! deadline passes (`super::state`), when admission evicts it, or when
//! shutdown begins and it has nothing in flight. Closing is dropping hyper's
//! connection: the socket closes, whatever the client was sending.
//!
//! At shutdown, connections with a request in flight are told to finish it
//! (hyper's graceful shutdown: the answer is sent, then the connection
//! closes); idle ones and ones whose head is still arriving are closed at
//! once. The accept loop's deadline ends whatever is left.

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, Duration, Instant};

use super::admission::Ticket;
use super::io::WatchedIo;
use super::service::ConnectionService;
use super::state::{ConnState, Timeouts};
use super::App;

/// What every connection's task shares.
pub(crate) struct Shared<A> {
    /// hyper-util's connection builder, configured once.
    pub(crate) builder: auto::Builder<TokioExecutor>,
    /// The app every request goes to.
    pub(crate) app: A,
    /// The connections' timeouts.
    pub(crate) timeouts: Timeouts,
    /// Becomes `true` when shutdown begins.
    pub(crate) stopping: watch::Receiver<bool>,
}

/// Serves `tcp` (admitted as `ticket`) until it closes.
pub(crate) async fn serve<A: App>(tcp: TcpStream, ticket: Ticket, shared: Arc<Shared<A>>) {
    let conn = Arc::clone(ticket.conn());
    drive(tcp, &conn, &shared).await;
    // The socket is closed (hyper's connection dropped): the slot is free.
    drop(ticket);
}

async fn drive<A: App>(tcp: TcpStream, conn: &Arc<ConnState>, shared: &Shared<A>) {
    let io = TokioIo::new(WatchedIo::new(tcp, Arc::clone(conn)));
    let service = ConnectionService::new(shared.app.clone(), Arc::clone(conn));
    let serving = shared.builder.serve_connection(io, service);
    tokio::pin!(serving);
    let mut stopping = shared.stopping.clone();
    if *stopping.borrow_and_update() {
        return;
    }
    let mut draining = false;
    let check_every = shared.timeouts.check_every();
    let first = next_check(conn.deadline(shared.timeouts), Instant::now(), check_every);
    let timer = sleep_until(first);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            biased;
            ended = serving.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!(peer = %conn.peer, error = %err, "connection ended with an error");
                }
                return;
            }
            () = conn.changed() => {
                if conn.close_asked() {
                    return;
                }
            }
            () = timer.as_mut() => {
                let now = Instant::now();
                let due = conn.deadline(shared.timeouts);
                if due.is_some_and(|due| due <= now) {
                    tracing::debug!(peer = %conn.peer, "connection timed out waiting for a request");
                    return;
                }
                timer.as_mut().reset(next_check(due, now, check_every));
            }
            _ = stopping.changed(), if !draining => {
                if conn.is_idle() {
                    // Idle, or a head still arriving: nothing to finish.
                    return;
                }
                // Finish the request in flight; hyper closes after its answer.
                draining = true;
                serving.as_mut().graceful_shutdown();
            }
        }
    }
}

/// When the task next looks at the connection's deadline: at the deadline,
/// or after `check_every` if that is sooner (and while a request is in
/// flight, when there is none).
///
/// Why this is enough, with no wake-up per request: a deadline that is set
/// after a look at `now` is never before `now + check_every`. A head that
/// starts gets `--header-read-timeout` from its first byte, a request that
/// ends gets `--idle-timeout` from its end, and `check_every` is the shorter
/// of the two. So the timer is always set no later than the deadline in
/// force, and a connection is closed when its deadline passes, as before;
/// the timer fires once per `check_every` per connection, instead of being
/// set twice per request (its head, then its answer).
fn next_check(due: Option<Instant>, now: Instant, check_every: Duration) -> Instant {
    let soonest = now + check_every;
    due.map_or(soonest, |due| due.min(soonest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_check_is_the_deadline_or_sooner() {
        let now = Instant::now();
        let every = Duration::from_secs(10);
        assert_eq!(next_check(None, now, every), now + every);
        let near = now + Duration::from_secs(3);
        assert_eq!(next_check(Some(near), now, every), near);
        let far = now + Duration::from_secs(75);
        assert_eq!(next_check(Some(far), now, every), now + every);
    }
}
