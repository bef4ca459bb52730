//! The connection-level limits: how many sockets, for how long, how big a
//! request head, how many requests and event streams at once, and how long
//! shutdown may take. A BFF that serves the open internet needs every one of
//! them (issue 12: 1,100 idle sockets exhausted the descriptors, 2,000 slow
//! header floods took 1 GB, one partial request held shutdown for ever).
//!
//! [`ConnectionSettings`] are what the operator asked for; [`EffectiveLimits`]
//! what the server can honour with the descriptors it has
//! ([`ConnectionSettings::effective`], pure: the server passes its
//! `RLIMIT_NOFILE` in).

use std::time::Duration;

use super::{ConfigError, Flag};

/// Smallest `--max-header-bytes`: hyper's smallest read buffer (8 KiB).
pub const MIN_HEADER_BYTES: usize = 8 * 1024;
/// Largest `--max-header-bytes` (1 MiB): past that, a header flood is a memory flood.
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;
/// How long a refused connection is given to send the request head it is
/// answered on (`429`/`503`), before it is closed unanswered.
pub const REFUSAL_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Most threads `--workers` may ask for (each is an event loop and a
/// thread's stack; more than this is a typo, not a machine).
pub const MAX_WORKERS: usize = 256;
/// Per-connection streams of a cleartext HTTP/2 connection (`--h2c`).
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 100;

/// A count flag whose default is written once: `count_flag!("max-connections", 16384, "…")`.
macro_rules! count_flag {
    ($name:literal, $n:literal, $doc:literal) => {
        Flag {
            name: $name,
            default: $n,
            text: stringify!($n),
            doc: $doc,
        }
    };
}

/// The flags of [`ConnectionSettings`], with their defaults (re-exported in
/// [`super::flags`], with every other flag).
pub mod flags {
    use super::*;

    /// `--max-connections`.
    pub const MAX_CONNECTIONS: Flag<usize> = count_flag!(
        "max-connections",
        16384,
        "Most client connections open at once (also capped at RLIMIT_NOFILE minus --fd-reserve)"
    );
    /// `--fd-reserve`.
    pub const FD_RESERVE: Flag<usize> = count_flag!(
        "fd-reserve",
        128,
        "File descriptors kept free of client connections (upstream, Redis, files, refusals)"
    );
    /// `--max-connections-per-ip`.
    pub const MAX_CONNECTIONS_PER_IP: Flag<usize> = count_flag!(
        "max-connections-per-ip",
        256,
        "Most connections from one client address (IPv6: one /64); raise it behind a proxy"
    );
    /// `--header-read-timeout`.
    pub const HEADER_READ_TIMEOUT: Flag<Duration> = duration_flag!(
        "header-read-timeout",
        10 s,
        "Longest a request head may take to arrive, from its first byte (or the connection's opening)"
    );
    /// `--idle-timeout`.
    pub const IDLE_TIMEOUT: Flag<Duration> = duration_flag!(
        "idle-timeout",
        75 s,
        "Longest a keep-alive connection may wait for its next request"
    );
    /// `--max-header-bytes`.
    pub const MAX_HEADER_BYTES: Flag<usize> = count_flag!(
        "max-header-bytes",
        16384,
        "Largest request head (request line and headers); larger ones are answered 431"
    );
    /// `--body-timeout`.
    pub const BODY_TIMEOUT: Flag<Duration> = duration_flag!(
        "body-timeout",
        10 s,
        "Longest wait for the next part of a request body before a 408"
    );
    /// `--request-timeout`.
    pub const REQUEST_TIMEOUT: Flag<Duration> = duration_flag!(
        "request-timeout",
        30 s,
        "Longest a request may take, head to answer (over --queue-wait plus --upstream-timeout); 408"
    );
    /// `--max-requests`.
    pub const MAX_REQUESTS: Flag<usize> = count_flag!(
        "max-requests",
        1024,
        "Most requests being answered at once; more are shed with 503 and Retry-After"
    );
    /// `--max-sse-streams`.
    pub const MAX_SSE_STREAMS: Flag<usize> = count_flag!(
        "max-sse-streams",
        10000,
        "Most event streams open at once (also capped at 3/4 of the connection cap); 503"
    );
    /// `--max-sse-streams-per-ip`.
    pub const MAX_SSE_STREAMS_PER_IP: Flag<usize> = count_flag!(
        "max-sse-streams-per-ip",
        32,
        "Most event streams from one client address (IPv6: one /64); 429"
    );
    /// `--shutdown-timeout`.
    pub const SHUTDOWN_TIMEOUT: Flag<Duration> = duration_flag!(
        "shutdown-timeout",
        25 s,
        "On SIGTERM, longest wait for requests in flight before the process exits anyway"
    );
    /// `--workers` (0: two per CPU the process may run on, as measured in
    /// the BFF's `connection::workers`).
    pub const WORKERS: Flag<usize> = count_flag!(
        "workers",
        0,
        "Threads serving client connections, each with its own event loop and upstream connections (0: two per CPU)"
    );
    /// `--h2c` (off by default).
    pub const H2C: Flag<bool> = Flag {
        name: "h2c",
        default: false,
        text: "false",
        doc: "Also accept cleartext HTTP/2 (prior knowledge); HTTP/1.1 only by default",
    };
}

/// The connection-level limits, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Most client connections open at once.
    pub max_connections: usize,
    /// Descriptors never given to client connections.
    pub fd_reserve: usize,
    /// Most connections from one client address.
    pub max_connections_per_ip: usize,
    /// Longest a request head may take, from its first byte; a new
    /// connection's first head, from the connection's opening.
    pub header_read_timeout: Duration,
    /// Longest a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Longest wait for the next part of a request body.
    pub body_timeout: Duration,
    /// Longest a whole request may take.
    pub request_timeout: Duration,
    /// Most requests being answered at once.
    pub max_requests: usize,
    /// Most event streams open at once.
    pub max_sse_streams: usize,
    /// Most event streams from one client address.
    pub max_sse_streams_per_ip: usize,
    /// Longest graceful shutdown may take.
    pub shutdown_timeout: Duration,
    /// Threads serving client connections; 0: two per CPU.
    pub workers: usize,
    /// Whether cleartext HTTP/2 is accepted.
    pub h2c: bool,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            max_connections: flags::MAX_CONNECTIONS.default,
            fd_reserve: flags::FD_RESERVE.default,
            max_connections_per_ip: flags::MAX_CONNECTIONS_PER_IP.default,
            header_read_timeout: flags::HEADER_READ_TIMEOUT.default,
            idle_timeout: flags::IDLE_TIMEOUT.default,
            max_header_bytes: flags::MAX_HEADER_BYTES.default,
            body_timeout: flags::BODY_TIMEOUT.default,
            request_timeout: flags::REQUEST_TIMEOUT.default,
            max_requests: flags::MAX_REQUESTS.default,
            max_sse_streams: flags::MAX_SSE_STREAMS.default,
            max_sse_streams_per_ip: flags::MAX_SSE_STREAMS_PER_IP.default,
            shutdown_timeout: flags::SHUTDOWN_TIMEOUT.default,
            workers: flags::WORKERS.default,
            h2c: flags::H2C.default,
        }
    }
}

/// What a server honours with the descriptors it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// Client connections held at once: `--max-connections`, or the
    /// descriptor limit minus `--fd-reserve` when that is lower.
    pub connections: usize,
    /// Connections served a refusal (`429`/`503`) at once, out of the
    /// reserve: half of it. Past that, refused connections are closed unanswered.
    pub refusals: usize,
    /// Event streams at once: `--max-sse-streams`, or three quarters of
    /// [`connections`](Self::connections) when that is lower, so that streams
    /// never take every connection from requests.
    pub sse_streams: usize,
}

impl ConnectionSettings {
    /// The limits a server with `descriptors` file descriptors (its soft
    /// `RLIMIT_NOFILE`) can honour; refused when the reserve leaves none.
    pub fn effective(&self, descriptors: u64) -> Result<EffectiveLimits, ConfigError> {
        let usable = usize::try_from(descriptors)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.fd_reserve);
        if usable == 0 {
            return Err(ConfigError(format!(
                "RLIMIT_NOFILE is {descriptors}: nothing is left for connections after --{} {}; raise the limit (ulimit -n) or lower --{}",
                flags::FD_RESERVE.name,
                self.fd_reserve,
                flags::FD_RESERVE.name
            )));
        }
        let connections = self.max_connections.min(usable);
        Ok(EffectiveLimits {
            connections,
            refusals: (self.fd_reserve / 2).max(1),
            sse_streams: self
                .max_sse_streams
                .min((connections - connections / 4).max(1)),
        })
    }

    /// Checks the bounds: counts at least 1, timeouts longer than 0, at most
    /// [`MAX_WORKERS`] workers, the head size within [`MIN_HEADER_BYTES`]`..=`[`MAX_HEADER_BYTES`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (flag, value) in [
            (flags::MAX_CONNECTIONS.name, self.max_connections),
            (
                flags::MAX_CONNECTIONS_PER_IP.name,
                self.max_connections_per_ip,
            ),
            (flags::MAX_REQUESTS.name, self.max_requests),
            (flags::MAX_SSE_STREAMS.name, self.max_sse_streams),
            (
                flags::MAX_SSE_STREAMS_PER_IP.name,
                self.max_sse_streams_per_ip,
            ),
            (flags::FD_RESERVE.name, self.fd_reserve),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("--{flag} must be at least 1")));
            }
        }
        for (flag, value) in [
            (flags::HEADER_READ_TIMEOUT.name, self.header_read_timeout),
            (flags::IDLE_TIMEOUT.name, self.idle_timeout),
            (flags::BODY_TIMEOUT.name, self.body_timeout),
            (flags::REQUEST_TIMEOUT.name, self.request_timeout),
            (flags::SHUTDOWN_TIMEOUT.name, self.shutdown_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError(format!("--{flag} must be longer than 0")));
            }
        }
        if self.workers > MAX_WORKERS {
            return Err(ConfigError(format!(
                "--{} must be at most {MAX_WORKERS}, got {}",
                flags::WORKERS.name,
                self.workers
            )));
        }
        if !(MIN_HEADER_BYTES..=MAX_HEADER_BYTES).contains(&self.max_header_bytes) {
            return Err(ConfigError(format!(
                "--{} must be between {MIN_HEADER_BYTES} and {MAX_HEADER_BYTES}, got {}",
                flags::MAX_HEADER_BYTES.name,
                self.max_header_bytes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_their_texts_parse_to_their_values() {
        assert_eq!(ConnectionSettings::default().validate(), Ok(()));
        for flag in [
            flags::MAX_CONNECTIONS,
            flags::FD_RESERVE,
            flags::MAX_CONNECTIONS_PER_IP,
            flags::MAX_HEADER_BYTES,
            flags::MAX_REQUESTS,
            flags::MAX_SSE_STREAMS,
            flags::MAX_SSE_STREAMS_PER_IP,
            flags::WORKERS,
        ] {
            assert_eq!(flag.text.parse(), Ok(flag.default), "{}", flag.name);
        }
        for flag in [
            flags::HEADER_READ_TIMEOUT,
            flags::IDLE_TIMEOUT,
            flags::BODY_TIMEOUT,
            flags::REQUEST_TIMEOUT,
            flags::SHUTDOWN_TIMEOUT,
        ] {
            assert_eq!(
                conferbot::rate::parse_duration(flag.text),
                Ok(flag.default),
                "{}",
                flag.name
            );
        }
        assert_eq!(flags::H2C.text.parse(), Ok(flags::H2C.default));
    }

    #[test]
    fn the_descriptor_limit_caps_connections_and_streams() {
        let settings = ConnectionSettings::default();
        // The usual 1,024 descriptors: 896 connections, 672 of them streams.
        let limits = settings.effective(1024).unwrap();
        assert_eq!(limits.connections, 1024 - 128);
        assert_eq!(limits.sse_streams, 672);
        assert_eq!(limits.refusals, 64);
        // Plenty of descriptors: the flags rule.
        let limits = settings.effective(1 << 20).unwrap();
        assert_eq!(limits.connections, 16384);
        assert_eq!(limits.sse_streams, 10000);
        let err = settings.effective(100).unwrap_err();
        assert!(err.0.contains("RLIMIT_NOFILE is 100"), "{err}");
        assert!(settings.effective(u64::MAX).is_ok());
    }

    #[test]
    fn workers_are_bounded() {
        let most = ConnectionSettings {
            workers: MAX_WORKERS,
            ..ConnectionSettings::default()
        };
        assert_eq!(most.validate(), Ok(()));
        let too_many = ConnectionSettings {
            workers: MAX_WORKERS + 1,
            ..ConnectionSettings::default()
        };
        assert!(too_many.validate().unwrap_err().0.contains("--workers"));
    }

    #[test]
    fn refuses_zero_counts_zero_timeouts_and_odd_head_sizes() {
        let zero_count = ConnectionSettings {
            max_sse_streams_per_ip: 0,
            ..ConnectionSettings::default()
        };
        assert!(zero_count
            .validate()
            .unwrap_err()
            .0
            .contains("--max-sse-streams-per-ip"));
        let zero_time = ConnectionSettings {
            shutdown_timeout: Duration::ZERO,
            ..ConnectionSettings::default()
        };
        assert!(zero_time
            .validate()
            .unwrap_err()
            .0
            .contains("--shutdown-timeout"));
        for bytes in [MIN_HEADER_BYTES - 1, MAX_HEADER_BYTES + 1] {
            let head = ConnectionSettings {
                max_header_bytes: bytes,
                ..ConnectionSettings::default()
            };
            assert!(head.validate().is_err(), "{bytes}");
        }
    }
}
