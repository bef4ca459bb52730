//! [`RunningSandbox`]: the sandbox served on a real socket, on a tokio task,
//! with graceful shutdown; over plain HTTP, or HTTPS with a certificate made
//! at start ([`RunningSandbox::start_tls`], [`crate::tls`]).
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
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::SandboxConfig;
use crate::faults::ConnectionKill;
use crate::state::{lock, SandboxState};
use crate::stats::SandboxStats;
use crate::tls::SandboxTls;

/// How long shutdown waits for requests in flight before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest a TLS handshake may take before the connection is closed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A sandbox serving on a socket. Dropping it stops the server too, without
/// waiting; [`RunningSandbox::shutdown`] waits for requests in flight.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    state: Arc<SandboxState>,
    tls: Option<SandboxTls>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Binds `addr` (port 0 picks a free port) and serves `config` on a
    /// tokio task, over plain HTTP.
    pub async fn start(config: SandboxConfig, addr: SocketAddr) -> io::Result<RunningSandbox> {
        Self::start_with(config, addr, None).await
    }

    /// The same over HTTPS, with a CA and certificate generated now: clients
    /// must trust [`RunningSandbox::ca_pem`].
    pub async fn start_tls(config: SandboxConfig, addr: SocketAddr) -> io::Result<RunningSandbox> {
        let tls = SandboxTls::generate().map_err(io::Error::other)?;
        Self::start_with(config, addr, Some(tls)).await
    }

    async fn start_with(
        config: SandboxConfig,
        addr: SocketAddr,
        tls: Option<SandboxTls>,
    ) -> io::Result<RunningSandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = SandboxState::new(config);
        let app = crate::router_with_state(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(
            listener,
            app,
            tls.clone(),
            Arc::clone(&state),
            stopped,
        ));
        tracing::info!(%addr, tls = tls.is_some(), "sandbox serving");
        Ok(RunningSandbox {
            addr,
            state,
            tls,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The CA certificate (PEM) to trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(SandboxTls::ca_pem)
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base a client is given: `http://127.0.0.1:PORT/api/v1`
    /// (`https://` with TLS).
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

    /// `http://host:port` (`https://` with TLS), with a wildcard bind address
    /// shown as loopback so that the URL is one a client can actually call.
    pub fn origin(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", SocketAddr::new(ip, self.addr.port()))
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
async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<SandboxTls>,
    state: Arc<SandboxState>,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    lock(&state.stats).record_connection();
                    accept(stream, app.clone(), tls.as_ref(), graceful.watcher());
                }
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

/// Serves one connection on its own task, after the TLS handshake if any.
fn accept(stream: TcpStream, app: Router, tls: Option<&SandboxTls>, watcher: Watcher) {
    let Some(tls) = tls else {
        return serve_connection(stream, app, watcher);
    };
    let acceptor = tls.acceptor().clone();
    tokio::spawn(async move {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => serve_connection(stream, app, watcher),
            Ok(Err(err)) => tracing::debug!(%err, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    });
}

/// Serves one connection on its own task; a `drop` fault ends the task,
/// which drops the socket with nothing written.
fn serve_connection<I>(io: I, app: Router, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = ConnectionKill::default();
    let killed = Arc::clone(&kill.0);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(kill.clone());
        app.clone().oneshot(request)
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    let connection = watcher.watch(connection);
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
