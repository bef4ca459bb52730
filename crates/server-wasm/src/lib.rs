//! `conferbot-server-wasm`: the BFF's policy ([`conferbot_policy`]) compiled to
//! wasm32 for the npm package's server half, `conferbot-wasm/server`.
//!
//! The JS side (`pkg-template/server/`) owns what wasm cannot: the request and
//! its body, `fetch` to the upstream, timers, the SSE streams and the
//! optional Redis store. Every decision it acts on comes from here, and so
//! from the same code `conferbot-bff` runs: which route a request is, whether
//! it is refused and with what answer, the upstream call built from scratch,
//! what of the upstream's answer goes back, the cache table and its
//! coalescing, the rate window's turns, webhook checks, event numbering and
//! SSE framing, and the shared Redis layout.
//!
//! # Layout
//! - [`access`]: the host allowlist, who a request is from (the peer, a
//!   trusted proxy's `X-Forwarded-For`, the `authorize` hook's user).
//! - [`policy`]: [`policy::Policy`], one per handler: routing, refusals, the
//!   cache table, upstream calls and answers ([`step`]: what to do next).
//! - [`reads`]: a read's turn at the cache table, and how it ends.
//! - [`quota`]: the month's book (learned, counted, refused; shared through
//!   the store's `quota.lua`), what the cache may spend, the quota headers.
//! - [`options`]: the JS options object read by the names of
//!   [`conferbot_policy::server_options`], and that table for JS.
//! - [`reply`]: a whole answer (status, headers, body) as the policy and the
//!   BFF's layers would send it; [`cors`]: the CORS layer's headers.
//! - [`answer`]: an upstream answer as checked, shared by the cache, and a
//!   held one with its age.
//! - [`window`]: the rate window's turns for JS timers.
//! - [`events`]: webhook deliveries, the event log, SSE frames and cursors.
//! - [`shared`]: what the Redis store needs: key names, scripts, wire formats;
//!   [`shared_read`]: one read through the shared cache (`begin.lua`,
//!   `finish.lua`); [`shared_delivery`]: a delivery applied there once
//!   (`publish.lua`); [`shared_window`]: a turn at the shared window
//!   (`window.lua`, `leave.lua`).
//! - [`js_url`]: URLs parsed by JS's own `URL` (webhook targets).
//! - [`combined_headers`]: header values as the fetch API combines them.
//! - [`signature`]: `verifyWebhookSignature` for webhook receivers in JS.

pub mod access;
pub mod answer;
pub mod combined_headers;
pub mod cors;
pub mod events;
pub mod js_url;
pub mod options;
pub mod policy;
pub mod quota;
pub mod reads;
pub mod reply;
pub mod shared;
pub mod shared_delivery;
pub mod shared_read;
pub mod shared_window;
pub mod signature;
pub mod step;
pub mod window;

#[cfg(target_arch = "wasm32")]
mod allocator;
