//! [`RunningSandbox`]: the sandbox served on a real socket, on a tokio task,
//! with graceful shutdown.
//!
//! It runs its own accept loop (hyper HTTP/1 per connection) instead of
//! `axum::serve`, because the `drop` fault must close a connection without
//! answering, which needs a handle on the connection itself.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::SandboxConfig;
use crate::faults::ConnectionKill;
use crate::state::{lock, SandboxState};
use crate::stats::SandboxStats;

/// How long shutdown waits for requests in flight before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A sandbox serving on a socket. Dropping it stops the server too, without
/// waiting; [`RunningSandbox::shutdown`] waits for requests in flight.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    state: Arc<SandboxState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Binds `addr` (port 0 picks a free port) and serves `config` on a tokio task.
    pub async fn start(config: SandboxConfig, addr: SocketAddr) -> io::Result<RunningSandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = SandboxState::new(config);
        let app = crate::router_with_state(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, app, stopped));
        tracing::info!(%addr, "sandbox serving");
        Ok(RunningSandbox {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base a client is given: `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin(), conferbot::API_PREFIX)
    }

    /// Where the admin routes live: `http://127.0.0.1:PORT/sandbox`.
    pub fn admin_url(&self) -> String {
        format!("{}{}", self.origin(), crate::admin::ADMIN_PREFIX)
    }

    /// The counters of `/api/v1` since start or the last reset.
    pub fn stats(&self) -> SandboxStats {
        lock(&self.state.stats).clone()
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            if let Err(err) = task.await {
                tracing::warn!(%err, "sandbox server task failed");
            }
        }
    }

    /// `http://host:port`, with a wildcard bind address shown as loopback so
    /// that the URL is one a client can actually call.
    fn origin(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepts until told to stop, then waits for open connections (bounded).
async fn serve(listener: TcpListener, app: Router, mut stop: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => serve_connection(stream, app.clone(), &graceful),
                Err(err) => {
                    // Usually out of file descriptors: pause instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut stop => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

/// Serves one connection on its own task; a `drop` fault ends the task,
/// which drops the socket with nothing written.
fn serve_connection(stream: TcpStream, app: Router, graceful: &GracefulShutdown) {
    let kill = ConnectionKill::default();
    let killed = Arc::clone(&kill.0);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(kill.clone());
        app.clone().oneshot(request)
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        tokio::select! {
            result = connection => {
                if let Err(err) = result {
                    tracing::debug!(%err, "connection ended with an error");
                }
            }
            () = killed.notified() => tracing::debug!("connection dropped by fault"),
        }
    });
}
