//! The accept loop, and shutdown with a deadline.
//!
//! Each accepted socket is admitted (`super::admission`) and served on its
//! own task (`super::lifecycle`) on one of the workers (`super::workers`),
//! or answered its refusal
//! (`super::refusal`). When `shutdown` resolves: the listener is closed (new
//! connections are refused by the system), `on_shutdown` runs (it ends the
//! event streams), every connection is told to stop (idle ones and ones
//! whose head is still arriving close at once, the others after their
//! answer), and whatever is still open after `--shutdown-timeout` is closed:
//! the process exits within the deadline whatever clients do.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::admission::Admission;
use super::lifecycle::{self, Shared};
use super::refusal::Refusals;
use super::workers::Workers;
use super::App;

/// After an accept error other than a failed handshake, the pause before
/// the next `accept` (out of descriptors, the reserve is what is left; give
/// the connections closing a moment).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// At most one log line per this much time about accept errors.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(5);

/// What the accept loop needs.
pub(crate) struct AcceptLoop<A> {
    /// Where connections come from.
    pub(crate) listener: TcpListener,
    /// Who is admitted.
    pub(crate) admission: Arc<Admission>,
    /// What the refused are answered with.
    pub(crate) refusals: Refusals,
    /// What the connections' tasks share.
    pub(crate) shared: Arc<Shared<A>>,
    /// The threads the connections are served on.
    pub(crate) workers: Workers,
    /// Tells the connections that shutdown began.
    pub(crate) stopping: watch::Sender<bool>,
    /// Longest wait for connections at shutdown.
    pub(crate) shutdown_timeout: Duration,
}

impl<A: App> AcceptLoop<A> {
    /// Accepts until `shutdown`, then drains within the deadline.
    pub(crate) async fn run(
        mut self,
        shutdown: impl Future<Output = ()>,
        on_shutdown: impl FnOnce(),
    ) -> io::Result<()> {
        let mut tasks = JoinSet::new();
        let mut last_logged: Option<Instant> = None;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                // Not while as many connections closed to make room are still
                // closing as may be (`slots::MAX_CLOSING`): newcomers wait in
                // the listen backlog, holding no descriptor, until a task ends
                // (the branch above) and its slot is free.
                accepted = self.listener.accept(), if !self.admission.too_many_closing() => match accepted {
                    Ok((tcp, peer)) => {
                        // Event frames are small and must not wait for Nagle.
                        let _ = tcp.set_nodelay(true);
                        match self.admission.admit(peer) {
                            Ok(ticket) => {
                                let shared = Arc::clone(&self.shared);
                                let moved = self.workers.spawn(tcp, &mut tasks, move |tcp| {
                                    lifecycle::serve(tcp, ticket, shared)
                                });
                                if let Err(err) = moved {
                                    // Closed, its slot freed with the ticket.
                                    tracing::warn!(%peer, error = %err, "a connection could not be handed to a worker");
                                }
                            }
                            Err(refusal) => {
                                tracing::debug!(%peer, status = refusal.status(), "connection refused");
                                self.refusals.refuse(tcp, refusal, &mut tasks);
                            }
                        }
                    }
                    Err(err) if is_per_connection(&err) => {}
                    Err(err) => {
                        if last_logged.map_or(true, |at| at.elapsed() >= ACCEPT_LOG_EVERY) {
                            tracing::warn!(error = %err, open = self.admission.open(), "accept failed");
                            last_logged = Some(Instant::now());
                        }
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }
        drop(self.listener);
        on_shutdown();
        self.stopping.send_replace(true);
        let open = self.admission.open();
        tracing::info!(
            open,
            deadline_ms = self.shutdown_timeout.as_millis() as u64,
            "shutting down: finishing requests in flight"
        );
        let drained = tokio::time::timeout(self.shutdown_timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                open = self.admission.open(),
                "shutdown deadline reached: closing the connections still open"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        Ok(())
    }
}

/// Errors of one connection's handshake, not of the listener: accept again.
fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
