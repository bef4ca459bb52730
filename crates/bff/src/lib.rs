//! `conferbot-bff`: the backend-for-frontend that holds the Conferbot API key.
//!
//! Browsers call `{mount}/external/v1/...` here without any key; the BFF
//! forwards only the operations of the core's endpoint table to the upstream
//! API (or the embedded sandbox), with the key injected, shaped to the
//! upstream's rate limit, with short-lived caching and coalescing of reads.
//! It is also the webhook receiver: signed deliveries in, cache invalidation
//! and Server-Sent Events out. State is in-process by default; with
//! `--redis URL`, replicas share their limiter, cache, coalescing and events.
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
//! - [`app`]: shared state, [`Bff::router`] and [`serve`]; [`health`]: `/healthz`.
//! - [`config`]: [`BffConfig`], its defaults and validation; [`cli`]: the flags and start-up.
//! - [`routing`]: the allowlist: raw path → operation via the core's `match_route`, canonical query.
//! - [`csrf`]: writes need `x-conferbot-csrf: 1` and an allowed `Origin`.
//! - [`proxy`]: the handler under the mount, applying each policy in turn; 64 KiB body limit.
//! - [`cache_store`]: where reads are cached: in-process [`cache`] (TTL, coalescing), or
//!   shared in Redis with this process joining its own identical reads in front.
//! - [`invalidation`]: which cached reads a write or a webhook makes stale.
//! - [`forward`]: upstream calls through the rate window, honouring upstream 429s.
//! - [`window_store`]: where the rate window lives: in-process [`limiter`] (the FIFO
//!   sliding window that keeps us under the upstream's limit), or shared in Redis.
//! - [`webhook`]: the receiver: signature, event and timestamp checks, then
//!   invalidation and publication.
//! - [`events`]: the numbered event log and its fan-out; `events::sse`: `GET {mount}/events`.
//! - [`redis_state`]: `--redis`: connection, health, and the Redis side of the window,
//!   cache, coalescing and event log (Lua scripts beside the code).
//! - [`live_sandbox`]: with `--sandbox`, the embedded sandbox's webhook to us, and
//!   `--sandbox-activity`.
//! - [`upstream`]: requests built from scratch with the key injected; answers checked.
//! - `transport`: how they travel: hyper directly for `http://`, reqwest for `https://`.
//! - [`headers`]: the response-header allowlist back to the browser.
//! - [`secret`]: [`ApiKey`], which never formats its value.
//! - [`error`]: [`BffError`], answered in the API's `{"error": ...}` format.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`static_files`]: `--www` at `/` and `--pkg` at `/pkg/`.
//! - [`shutdown`]: SIGINT/SIGTERM for graceful shutdown; [`logging`]: stderr logs.

#![warn(missing_docs)]

pub mod app;
pub mod cache;
pub mod cache_store;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod error;
pub mod events;
pub mod forward;
pub mod headers;
pub mod health;
pub mod invalidation;
pub mod limiter;
pub mod live_sandbox;
pub mod logging;
pub mod metrics;
pub mod proxy;
pub mod redis_state;
pub mod routing;
pub mod secret;
pub mod shutdown;
pub mod static_files;
mod transport;
pub mod upstream;
pub mod webhook;
pub mod window_store;

pub use app::{serve, Bff, ServeError};
pub use cli::{Cli, Launch, LaunchError};
pub use config::{BffConfig, ConfigError};
pub use error::BffError;
pub use redis_state::RedisUrl;
pub use secret::{ApiKey, WebhookSecret};
