//! Hostile clients against the release `conferbot-bff`, over real sockets on
//! loopback, each bounded in count and time: the attacks of issue 12 that
//! once worked (idle sockets past the descriptor limit, header floods,
//! partial requests across SIGTERM, withheld bodies, bare LF, h2c, stream
//! floods), as the tests in `tests/attacks/` assert them and as
//! `conferbot-attack` (the benchmarks' load) runs them.
//!
//! Attack traffic comes from addresses of 127.0.0.0/8 other than 127.0.0.1
//! (each attacker socket is bound to one before connecting), so that the
//! legitimate client on 127.0.0.1 is a different client to the BFF, as on a
//! real network; per-address caps are tested by attacking from one address.
//!
//! # Layout
//! - [`bff`]: the BFF under test: the release binary started with flags and
//!   a descriptor limit, its address, RSS, descriptors, SIGTERM and exit.
//! - [`sockets`]: connecting from a chosen loopback address; raw exchanges.
//! - [`probe`]: a legitimate client's latency, p50/p99.
//! - [`flood`]: the floods: idle sockets, stalled header floods, partial
//!   requests, withheld bodies.
//! - [`scenarios`]: the measured runs of `conferbot-attack` (the benchmarks).
//! - [`streams`]: event streams: opening many, reading their frames, the
//!   fan-out latency of deliveries.

pub mod bff;
pub mod flood;
pub mod probe;
pub mod scenarios;
pub mod sockets;
pub mod streams;

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit: a flood of
/// 2,000 sockets needs as many descriptors here as it takes from the BFF.
pub fn raise_own_descriptor_limit() -> anyhow::Result<u64> {
    Ok(rlimit::increase_nofile_limit(u64::MAX)?)
}
