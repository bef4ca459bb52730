//! `conferbot-policy`: everything a Conferbot BFF decides, as pure Rust.
//!
//! A sans-IO core, like quinn-proto or rustls: it takes requests, answers and
//! times, and returns decisions; the caller owns sockets, timers, tasks and
//! storage. `conferbot-bff` drives it under tokio and axum; the npm server
//! half compiles it to `wasm32-unknown-unknown` and drives it from JS. So
//! nothing here reads a clock (times are parameters, in milliseconds or
//! Unix seconds), spawns, sleeps or does I/O, and no runtime crate is a
//! dependency. Protocol facts (header names, the API's wording, the plan
//! table) come from the core's [`conferbot::protocol`]; the endpoint table,
//! ids and pages from the core too.
//!
//! # Layout
//! - [`settings`]: [`Settings`], the defaults and flag names of every tunable,
//!   the hard limits (64 KiB bodies, …), and their validation;
//!   [`server_options`]: the npm server half's option names for them.
//! - [`request`]: the request as the policy reads it ([`RequestHead`],
//!   [`HeaderLookup`] over any header storage, [`HeaderList`]).
//! - [`route`]: which route a path is; raw request → [`Target`] or refusal
//!   (absolute form, hostile paths, the endpoint table, the canonical page).
//! - [`validate`]: body size, and the `createWebhook` body re-serialized with
//!   known fields only; [`webhook_target`]: its URL public `https://` only.
//! - [`host`]: the hosts a BFF answers for (`--allow-host`, against DNS
//!   rebinding), checked on every request.
//! - [`csrf`]: writes need `x-conferbot-csrf: 1` and an allowed `Origin`.
//! - [`headers`]: hygiene both ways: upstream requests built from scratch
//!   with the key, the response-header allowlist, CORS lists, `x-cache`.
//! - [`upstream_answer`]: an upstream answer → the client's (JSON check,
//!   errors re-written in the API's format); [`secret_scan`]: the key and
//!   the webhook secret found in answers in any spelling a client decodes.
//! - [`client`]: who a request is from (the address, `X-Forwarded-For`
//!   behind `--trusted-proxy`, or a named user); [`auth`]: the
//!   authorisation step (`--auth-url`, or the JS half's `authorize`).
//! - [`window`]: the sliding window and its fair queue by client as a state
//!   machine; what an upstream `429` pauses; the shared window's polling;
//!   [`spend`]: per-client monthly caps.
//! - [`mod@cache_key`], [`cache_table`], [`invalidation`], [`patch`]: the key
//!   of a read; the in-process table of held answers (fresh, then stale
//!   while revalidated) and reads in flight; what a write or a delivery does
//!   to cached reads; the patch rules of deliveries (a new response adds 1 to
//!   its chatbot's `responseCount`), as pure functions.
//! - [`quota`], [`quota_headers`]: the month as known from `getUsage` and
//!   own calls, `--monthly-budget`, what may be spent (stretched revalidation
//!   intervals, no call once the month is spent); the quota headers.
//! - [`webhook`]: delivery checks (signature, event, timestamp) → an accepted
//!   delivery or a typed rejection; its dedup identity and receipt.
//! - [`event_log`]: the numbered, bounded log of live events and its replay.
//! - [`sse`]: event framing (id/event/data, `retry:`, keepalive, resync) and
//!   one stream's cursor.
//! - [`shared_state`]: the Redis layout replicas share: key names, JSON
//!   documents, Lua scripts.
//! - [`error`]: [`BffError`], every answer a BFF gives on its own, in the
//!   API's `{"error", "message"}` format with `Retry-After` and `Allow`.

#![warn(missing_docs)]

pub mod auth;
pub mod cache_key;
pub mod cache_table;
mod calendar;
pub mod client;
pub mod csrf;
pub mod error;
pub mod event_log;
pub mod headers;
pub mod host;
pub mod invalidation;
pub mod patch;
pub mod quota;
pub mod quota_headers;
mod raw_object;
pub mod refresh_budget;
pub mod request;
pub mod route;
pub mod secret_scan;
pub mod server_options;
pub mod settings;
pub mod shared_state;
pub mod spend;
pub mod sse;
pub mod upstream_answer;
pub mod validate;
pub mod webhook;
pub mod webhook_target;
pub mod window;

pub use cache_key::cache_key;
pub use error::BffError;
pub use request::{HeaderList, HeaderLookup, Request, RequestHead};
pub use route::Target;
pub use settings::{ConfigError, Settings};
