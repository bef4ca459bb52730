//! The threads that serve client connections (`--workers`): each runs a
//! single-threaded tokio runtime of its own, and every connection lives its
//! whole life on one of them, its upstream calls included (each worker has
//! its own upstream pool: `crate::upstream::transport`).
//!
//! Why not tokio's work-stealing runtime for connections: its threads share
//! one event loop, so a socket's readiness is often seen on one thread and
//! its task run on another, and a pooled upstream connection's task runs
//! wherever it was spawned; every such hand-over is a wake-up across
//! threads. Measured with the release BFF and sandbox, two `wrk -t1 -c32`
//! at once on a 2-core machine: two BFF processes with one runtime thread
//! each served 1.58× the requests/s of one process with two work-stealing
//! threads from the cache, and 1.25× uncached. This is the one-process form
//! of that: the accept loop, the refusals and everything else (Redis, the
//! metrics listener, the embedded sandbox) stay on the main runtime.
//!
//! A connection is handed over as a standard socket and registered with its
//! worker's event loop there ([`Workers::spawn`]): a socket stays with the
//! event loop that registered it.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::TcpStream as StdTcpStream;
use std::num::NonZeroUsize;

use tokio::net::TcpStream;
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

thread_local! {
    /// Which worker this thread is, on a worker's thread.
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The worker running on this thread, if it is one (for per-worker state
/// such as the upstream pools).
pub(crate) fn current() -> Option<usize> {
    CURRENT.with(Cell::get)
}

/// Workers per CPU when `--workers` is 0.
///
/// Two, measured (release BFF and sandbox on a 2-core machine, `wrk -t2
/// -c64 -d8s` on the same machine, one cached URL): one worker per CPU
/// served 125k requests/s at 10.5 µs of CPU and 0.17 context switches per
/// request, two per CPU 149k at 8.4 µs and 0.08 (a worker woken finds more
/// connections ready, and answers them in one turn), four per CPU 135k.
/// Uncached, two per CPU served 40k against 39k. Not measured on a host
/// whose load comes from elsewhere: `--workers` sets the count.
pub(crate) const PER_CPU: usize = 2;

/// How many workers `--workers N` means: `N`, or with 0, [`PER_CPU`] per
/// CPU this process may run on.
pub(crate) fn count(asked: usize) -> usize {
    match asked {
        0 => std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .saturating_mul(PER_CPU),
        n => n,
    }
}

/// The running workers; dropping this stops them (the tasks still on them
/// are dropped, on their own threads).
pub(crate) struct Workers {
    handles: Vec<Handle>,
    /// Resolving one ends its worker's thread.
    stops: Vec<oneshot::Sender<()>>,
    /// The worker the next connection goes to (round robin).
    next: usize,
}

impl Workers {
    /// Starts `count` workers (at least one), each a thread named
    /// `bff-worker-N`.
    pub(crate) fn start(count: usize) -> io::Result<Self> {
        let mut workers = Self {
            handles: Vec::with_capacity(count),
            stops: Vec::with_capacity(count),
            next: 0,
        };
        for index in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            workers.handles.push(runtime.handle().clone());
            std::thread::Builder::new()
                .name(format!("bff-worker-{index}"))
                .spawn(move || {
                    CURRENT.with(|current| current.set(Some(index)));
                    // Serves whatever is spawned on it until told to stop
                    // (or the stopper is dropped); the runtime and the tasks
                    // left on it are dropped here, on its own thread.
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
            workers.stops.push(stop);
        }
        Ok(workers)
    }

    /// Runs `serve` with `tcp` on the next worker, in `tasks` (so that the
    /// accept loop can wait for it and abort it at the shutdown deadline).
    /// If the socket cannot be taken off this event loop, the error is
    /// returned and the socket closed (`serve` is dropped unrun).
    pub(crate) fn spawn<F, Fut>(
        &mut self,
        tcp: TcpStream,
        tasks: &mut JoinSet<()>,
        serve: F,
    ) -> io::Result<()>
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Some(handle) = self.handles.get(self.next % self.handles.len().max(1)) else {
            // No worker at all (never: `start` makes one at least): served
            // here rather than dropped.
            tasks.spawn(serve(tcp));
            return Ok(());
        };
        self.next = self.next.wrapping_add(1);
        let std: StdTcpStream = tcp.into_std()?;
        tasks.spawn_on(
            async move {
                // Registered with this worker's event loop, not the accept
                // loop's. Non-blocking already (`into_std` keeps the mode).
                match TcpStream::from_std(std) {
                    Ok(tcp) => serve(tcp).await,
                    Err(err) => tracing::warn!(error = %err, "a connection could not be moved to its worker"),
                }
            },
            handle,
        );
        Ok(())
    }
}

#[cfg(test)]
impl Workers {
    /// Worker `index`'s runtime, for tests of per-worker state.
    pub(crate) fn handle(&self, index: usize) -> Option<&Handle> {
        self.handles.get(index)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_two_per_cpu() {
        assert_eq!(count(3), 3);
        let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        assert_eq!(count(0), 2 * cpus);
    }

    #[tokio::test]
    async fn connections_are_served_on_the_workers_in_turn() {
        let mut workers = Workers::start(2).unwrap();
        assert_eq!(current(), None);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = JoinSet::new();
        for _ in 0..4 {
            let _client = TcpStream::connect(addr).await.unwrap();
            let (tcp, _) = listener.accept().await.unwrap();
            let seen = seen_tx.clone();
            workers
                .spawn(tcp, &mut tasks, move |tcp| async move {
                    // The socket works on its worker's event loop.
                    let peer = tcp.peer_addr().is_ok();
                    let _ = seen.send((current(), peer));
                })
                .unwrap();
        }
        while tasks.join_next().await.is_some() {}
        let mut seen = Vec::new();
        while let Ok(one) = seen_rx.try_recv() {
            seen.push(one);
        }
        assert_eq!(
            seen.iter().filter(|(worker, _)| *worker == Some(0)).count(),
            2
        );
        assert_eq!(
            seen.iter().filter(|(worker, _)| *worker == Some(1)).count(),
            2
        );
        assert!(seen.iter().all(|(_, peer)| *peer));
    }
}
