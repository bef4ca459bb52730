//! `conferbot-sandbox`: a faithful local imitation of the Conferbot External
//! API, for tests, demos and benchmarks.
//!
//! It answers under `/api/v1/external/v1/…` exactly as the upstream guide
//! documents: `x-api-key` auth, plans (Free has no API access), the per-key
//! sliding-window limit with the guide's `429`, monthly quotas, pagination,
//! per-plan webhook limits and signed, retried webhook deliveries. Routing,
//! pagination, wire types and error bodies all come from the `conferbot` core,
//! so the sandbox cannot drift from what the client and the BFF expect.
//!
//! Data is seeded and deterministic (`--seed`, default 42): 137 chatbots per
//! workspace, each with up to 60 responses (`--chatbots`, `--max-responses`;
//! `--tricky-answers` for answers that exporters must quote). Admin routes under `/sandbox` (no key)
//! simulate events, inject faults, set usage and expose counters; see the
//! crate README.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use conferbot_sandbox::{keys, RunningSandbox, SandboxConfig};
//! let sandbox = RunningSandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("GET {}/external/v1/chatbots with x-api-key: {}", sandbox.base_url(), keys::STARTER);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: [`SandboxConfig`], what a sandbox is started with.
//! - [`keys`]: the built-in keys (one per plan) and the key → workspace table.
//! - [`server`]: [`RunningSandbox`], the accept loop and graceful shutdown.
//! - [`tls`]: `--tls`, a CA and a `localhost` certificate generated at start.
//! - `api`: the `/api/v1` pipeline: fault, auth, plan, window, quota, route.
//! - `chatbots`: chatbot and response reads, paginated by the core's rules.
//! - `webhooks`: webhook list, create (validated, plan-limited) and delete.
//! - `limiter`: the per-key sliding window and its `429` words.
//! - `quota`: monthly call counts and the `GET /usage` answer.
//! - [`faults`]: armed faults (`status500`, `nonJson`, `truncated`, `delay`, `drop`).
//! - [`delivery`]: signed webhook deliveries with retries, and their log.
//! - `simulate`: `POST /sandbox/responses`, events that change data and fire webhooks.
//! - `admin`: the other `/sandbox` routes.
//! - [`stats`]: [`SandboxStats`], counters of `/api/v1` answers.
//! - `state`: the shared state, one lock per concern.
//! - `seed`, `workspace`: deterministic data and one workspace's store;
//!   `tricky`: the answers of `--tricky-answers`.
//! - `prng`, `clock`: SplitMix64 and ISO 8601 formatting, each a few lines.
//! - `reply`: JSON answers in the upstream's error format.

#![warn(missing_docs)]

mod admin;
mod api;
mod chatbots;
mod clock;
pub mod config;
pub mod delivery;
pub mod faults;
pub mod keys;
mod limiter;
mod prng;
mod quota;
mod reply;
mod seed;
pub mod server;
mod simulate;
mod state;
pub mod stats;
pub mod tls;
mod tricky;
mod webhooks;
mod workspace;

use std::sync::Arc;

use axum::Router;

pub use admin::ADMIN_PREFIX;
pub use config::{AnswerStyle, SandboxConfig};
pub use delivery::DeliveryAttempt;
pub use faults::{FaultKind, FaultSpec};
pub use server::RunningSandbox;
pub use stats::SandboxStats;
pub use tls::SandboxTls;

/// The whole sandbox as a `Router`, for `axum::serve` or `tower::ServiceExt::oneshot`.
///
/// [`RunningSandbox`] is the better way to run it on a socket: there the
/// `drop` fault closes the connection without a byte of answer.
pub fn router(config: SandboxConfig) -> Router {
    router_with_state(state::SandboxState::new(config))
}

fn router_with_state(state: Arc<state::SandboxState>) -> Router {
    admin::routes().fallback(api::handle).with_state(state)
}
