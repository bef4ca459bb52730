//! `conferbot-bff`: the backend-for-frontend that holds the Conferbot API key.
//!
//! Browsers call `{mount}/external/v1/...` here without any key; the BFF
//! forwards only the operations of the core's endpoint table to the upstream
//! API (or the embedded sandbox), with the key injected, shaped to the
//! upstream's rate limit, with caching (stale-while-revalidate on a monthly
//! budget) and coalescing of reads, and the quota said on every answer.
//! It is also the webhook receiver: signed deliveries in, applied to the
//! cached answers, and Server-Sent Events out. State is in-process by default; with
//! `--redis URL`, replicas share their limiter, cache, coalescing and events.
//!
//! Every decision (routing, re-validation, header hygiene, CSRF, the rate
//! window's arithmetic, cache and invalidation rules, upstream answers,
//! webhook checks, SSE framing) is made by the sans-IO [`conferbot_policy`]
//! crate, which the npm server half runs too; this crate is the I/O around
//! it: axum, tokio, the upstream transport, Redis.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use conferbot_bff::{serve, ApiKey, BffConfig};
//! let key = ApiKey::new(std::env::var("CONFERBOT_API_KEY")?).ok_or("empty key")?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! serve(BffConfig::new(key), listener, conferbot_bff::shutdown::signal()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `app`: [`Bff`]: the router and [`serve`]; `context`: what handlers share.
//! - [`connection`]: the connection layer in front of the router: the
//!   connection caps (total, per address, under `RLIMIT_NOFILE`), header,
//!   idle, body and request timeouts, load shedding, bare-LF refusal, h2c
//!   only with `--h2c`, and shutdown with a deadline; connections are
//!   served on worker threads, one event loop each (`--workers`).
//! - `config`: [`BffConfig`] (the policy's [`Settings`] plus the key, secrets,
//!   Redis, static directories); `cli`: [`Cli`], the flags; `cli::launch`:
//!   [`Launch`], start-up (the key, or the embedded sandbox).
//! - `http`: the handlers, each a thin driver of the policy: `access` (the
//!   host check, the client's identity, forward-auth), `proxy` (the API
//!   under the mount), `events` (SSE), `webhook` (the receiver), `health`;
//!   `respond` (answers and body reading), `hygiene` (the header allowlist
//!   middleware, CORS), `quota` (the quota headers on every answer).
//! - `forward`: upstream calls through the fair rate window, honouring
//!   upstream 429s, and the month's quota (counted, learnt, refused when
//!   spent); `forward_auth`: the `--auth-url` subrequest.
//! - `upstream`: the one way out, requests built by the policy with the key
//!   injected; `upstream::transport`: one hyper + rustls client for `http://`
//!   and `https://`; `upstream::roots`: the public roots, or [`UpstreamCa`].
//! - `state`: the shared state by capability, each with an in-process and a
//!   Redis backend behind one interface: `window` (the rate window and its
//!   queue), `cache` (reads cached, revalidated, patched and coalesced),
//!   `events` (the event log and its fan-out; a delivery's patches applied
//!   with its publication), `quota` (the month as known).
//! - `redis_state`: `--redis`: the connection, its health, the pub/sub
//!   subscriber ([`RedisUrl`]); the scripts and keys are the policy's.
//! - `answer`: an upstream answer as the BFF shares it.
//! - `secret`: [`ApiKey`] and [`WebhookSecret`], which never format their value.
//! - `metrics`: `/metrics` in the Prometheus text format (`prometheus-client`);
//!   `metrics::access`: [`MetricsToken`] and [`MetricsListener`].
//! - `live_sandbox` (feature `sandbox`): the embedded sandbox's webhook to us,
//!   and `--sandbox-activity`.
//! - `static_files`: `--www` at `/` and `--pkg` at `/pkg/`.
//! - [`shutdown`]: SIGINT/SIGTERM for graceful shutdown; [`logging`]: stderr logs.
//!
//! # Features
//! - `sandbox` (default): the embedded sandbox, started when no key is
//!   configured or with `--sandbox`. Without it (`--no-default-features`, for
//!   production) there is no sandbox code, and the BFF refuses to start
//!   without a key.

#![warn(missing_docs)]

mod answer;
mod app;
mod cli;
mod config;
pub mod connection;
mod context;
mod forward;
mod forward_auth;
mod http;
#[cfg(feature = "sandbox")]
mod live_sandbox;
pub mod logging;
mod metrics;
mod redis_state;
mod secret;
pub mod shutdown;
mod state;
mod static_files;
mod upstream;

pub use app::{serve, Bff, ServeError};
pub use cli::launch::{EmbeddedSandbox, Launch, LaunchError};
pub use cli::{Cli, ConnectionArgs};
pub use conferbot_policy::{BffError, ConfigError, Settings};
pub use config::BffConfig;
pub use metrics::access::{MetricsListener, MetricsToken};
pub use redis_state::RedisUrl;
pub use secret::{ApiKey, WebhookSecret};
pub use upstream::UpstreamCa;
