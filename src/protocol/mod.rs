//! Protocol facts: every name, number and wording that more than one part of
//! the project must agree on, stated once.
//!
//! The client, the BFF (Rust and the npm server half) and the sandbox all read
//! these; none of them restates a header name, a plan's quota or the
//! upstream's error wording.
//!
//! - [`api`]: the upstream External API: base URL and prefixes, the key
//!   header, the per-minute rate, its error wording and `Retry-After` rounding.
//! - [`webhooks`]: what a webhook delivery carries: header names, user agent,
//!   retries.
//! - [`plans`]: the plan table (monthly calls, webhooks).
//! - [`bff`]: what the BFF adds on its side of the wire: mount, events path,
//!   the CSRF header, and the headers its answers carry (cache and quota).

pub mod api;
pub mod bff;
pub mod plans;
pub mod webhooks;
