//! `conferbot-bff`: the backend-for-frontend that holds the Conferbot API key.
//!
//! Browsers call `{mount}/external/v1/...` here without any key; the BFF
//! forwards only the operations of the core's endpoint table to the upstream
//! API (or the embedded sandbox), with the key injected, shaped to the
//! upstream's rate limit, with short-lived caching and coalescing of reads.
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
//! - [`app`]: shared state, [`Bff::router`] and [`serve`].
//! - [`config`]: [`BffConfig`], its defaults and validation; [`cli`]: the flags and start-up.
//! - [`routing`]: the allowlist: raw path → operation via the core's `match_route`, canonical query.
//! - [`csrf`]: writes need `x-conferbot-csrf: 1` and an allowed `Origin`.
//! - [`proxy`]: the handler under the mount, applying each policy in turn; 64 KiB body limit.
//! - [`cache`]: GET cache with TTL, coalescing of identical reads, invalidation by writes.
//! - [`forward`]: upstream calls through the rate window, honouring upstream 429s.
//! - [`limiter`]: the FIFO sliding window that keeps us under the upstream's limit.
//! - [`upstream`]: requests built from scratch with the key injected; answers checked.
//! - [`headers`]: the response-header allowlist back to the browser.
//! - [`secret`]: [`ApiKey`], which never formats its value.
//! - [`error`]: [`BffError`], answered in the API's `{"error": ...}` format.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`static_files`]: `--www` at `/` and `--pkg` at `/pkg/`.
//! - [`shutdown`]: SIGINT/SIGTERM for graceful shutdown; [`logging`]: stderr logs.

#![warn(missing_docs)]

pub mod app;
pub mod cache;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod error;
pub mod forward;
pub mod headers;
pub mod limiter;
pub mod logging;
pub mod metrics;
pub mod proxy;
pub mod routing;
pub mod secret;
pub mod shutdown;
pub mod static_files;
pub mod upstream;

pub use app::{serve, Bff, ServeError};
pub use cli::{Cli, Launch, LaunchError};
pub use config::{BffConfig, ConfigError};
pub use error::BffError;
pub use secret::ApiKey;
