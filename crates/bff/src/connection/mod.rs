//! The connection layer: how sockets are accepted, served, limited, timed out
//! and closed, in front of the app. Built from hyper-util's connection
//! builder (hyper's HTTP/1 parser and graceful shutdown, tokio's timer) and
//! tower layers; the only loops written here are the accept loop and each
//! connection's watch over its deadline, never a protocol.
//!
//! Every limit is a flag with its default in
//! [`conferbot_policy::settings::connections`]; the README's "Limits" table
//! says what each one stops.
//!
//! # Layout
//! - `accept`: the accept loop, and shutdown with a deadline.
//! - `admission`: the connection cap and the per-address cap; at the cap,
//!   an idle connection is closed to make room, or the newcomer is shed.
//! - `refusal`: refused connections answered `429`/`503`, a bounded number
//!   at a time.
//! - `lifecycle`: one connection's task (hyper, its deadline, shutdown).
//! - `state`: one connection's state: in flight, idle, head arriving; its
//!   header and idle timeouts.
//! - `io`: the socket, its reads shown to the state; `head_scanner`: bare LF
//!   in request heads, which hyper's parser accepts.
//! - `service`: each connection's hyper service (requests in flight, the
//!   scanner's verdict, the client's address for handlers).
//! - `request_limits`: the tower layers of each request: load shedding,
//!   requests in flight, request and body timeouts.
//! - `workers`: the threads connections are served on, one event loop
//!   each (`--workers`).
//! - `slots`: counted slots with a total and a per-address cap (connections,
//!   event streams).
//! - [`descriptors`]: `RLIMIT_NOFILE`, raised at start.

mod accept;
mod admission;
pub mod descriptors;
mod head_scanner;
mod io;
mod lifecycle;
mod refusal;
pub(crate) mod request_limits;
mod service;
pub(crate) mod slots;
mod state;
pub(crate) mod workers;

use std::future::Future;
use std::sync::Arc;

use std::convert::Infallible;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use conferbot_policy::settings::connections::H2_MAX_CONCURRENT_STREAMS;
use conferbot_policy::settings::{ConnectionSettings, EffectiveLimits};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::Service;

use accept::AcceptLoop;
use admission::Admission;
use lifecycle::Shared;
use refusal::Refusals;
use state::Timeouts;

/// What the connections serve: the whole app as one cloneable service
/// (cloned for each request, as tower's `oneshot` needs).
pub trait App:
    Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> App for S where
    S: Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Serves `app` on `listener` with the limits of `settings` (the connection
/// cap from `limits`) on `workers` threads, until `shutdown` resolves; then
/// `on_shutdown` runs and the connections are drained within
/// `--shutdown-timeout`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: impl App,
    settings: &ConnectionSettings,
    limits: EffectiveLimits,
    workers: usize,
    shutdown: impl Future<Output = ()>,
    on_shutdown: impl FnOnce(),
) -> std::io::Result<()> {
    let workers = workers::Workers::start(workers)?;
    let (stopping, stopping_rx) = watch::channel(false);
    let timeouts = Timeouts {
        header_read: settings.header_read_timeout,
        idle: settings.idle_timeout,
    };
    let shared = Arc::new(Shared {
        builder: builder(settings),
        app,
        timeouts,
        stopping: stopping_rx,
    });
    AcceptLoop {
        listener,
        admission: Admission::new(
            limits.connections,
            settings.max_connections_per_ip,
            settings.max_header_bytes,
        ),
        refusals: Refusals::new(limits.refusals),
        shared,
        workers,
        stopping,
        shutdown_timeout: settings.shutdown_timeout,
    }
    .run(shutdown, on_shutdown)
    .await
}

/// hyper-util's builder: HTTP/1.1 (and cleartext HTTP/2 with `--h2c`), heads
/// of at most `--max-header-bytes` (hyper answers `431` past that).
fn builder(settings: &ConnectionSettings) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper's own header timer runs from the end of the previous answer,
        // so it would also cut keep-alive idleness short; the connection's
        // state keeps the two apart (`state`), and hyper's timer is the
        // backstop behind both.
        .header_read_timeout(settings.header_read_timeout + settings.idle_timeout)
        .max_buf_size(settings.max_header_bytes);
    if !settings.h2c {
        return builder.http1_only();
    }
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
        .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(settings.idle_timeout / 2));
    builder
}
