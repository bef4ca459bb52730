//! Each attack of issue 12 against the release `conferbot-bff` (set
//! `CONFERBOT_BFF_RELEASE`; `cargo xtask test` builds it and runs these one
//! at a time, so that no two floods share the machine's two cores), over
//! real sockets on loopback, bounded in count and time. Every bound is
//! stated where it is asserted, with why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod descriptors;
mod memory;
mod shedding;
mod shutdown;
mod streams;
mod strictness;
mod support;
mod timeouts;
