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
use tokio::time::{sleep_until, Instant};

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
    loop {
        let deadline = conn.deadline(shared.timeouts);
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
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                // Only a deadline still due closes: something may have
                // happened since it was computed.
                if conn.deadline(shared.timeouts).is_some_and(|due| due <= Instant::now()) {
                    tracing::debug!(peer = %conn.peer, "connection timed out waiting for a request");
                    return;
                }
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
