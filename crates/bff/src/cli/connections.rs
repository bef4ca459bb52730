//! The connection limits' flags ([`ConnectionArgs`], flattened into
//! [`super::Cli`]); names, defaults and help are the policy's
//! ([`conferbot_policy::settings::flags`]).

use std::time::Duration;

use clap::Args;
use conferbot::rate::parse_duration;
use conferbot_policy::settings::{flags, ConnectionSettings};

/// What `--help` says about the limits as a whole.
pub(crate) const LIMITS_HELP: &str = "

LIMITS
  Every connection is held to the limits above (README, \"Limits\"). At start the soft
  RLIMIT_NOFILE is raised to the hard limit, and the connection cap stays --fd-reserve
  below it. At the cap an idle connection (no request in flight) is closed to make room;
  with none idle, new connections are answered 503 with Retry-After. Past
  --max-connections-per-ip or --max-sse-streams-per-ip: 429 with Retry-After. Behind a
  proxy every connection comes from the proxy's address: raise the per-IP caps. Request
  heads must end every line in CRLF (a bare LF is 400); over --max-header-bytes is 431; a
  body that stops arriving is 408. SIGTERM: new connections are refused, idle ones close,
  requests in flight are answered, and the process exits within --shutdown-timeout.";

/// The connection limits on the command line.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// `--max-connections` ([`flags::MAX_CONNECTIONS`]).
    #[arg(long = flags::MAX_CONNECTIONS.name, value_name = "N", default_value = flags::MAX_CONNECTIONS.text, help = flags::MAX_CONNECTIONS.doc)]
    pub max_connections: usize,
    /// `--fd-reserve` ([`flags::FD_RESERVE`]).
    #[arg(long = flags::FD_RESERVE.name, value_name = "N", default_value = flags::FD_RESERVE.text, help = flags::FD_RESERVE.doc)]
    pub fd_reserve: usize,
    /// `--max-connections-per-ip` ([`flags::MAX_CONNECTIONS_PER_IP`]).
    #[arg(long = flags::MAX_CONNECTIONS_PER_IP.name, value_name = "N", default_value = flags::MAX_CONNECTIONS_PER_IP.text, help = flags::MAX_CONNECTIONS_PER_IP.doc)]
    pub max_connections_per_ip: usize,
    /// `--header-read-timeout` ([`flags::HEADER_READ_TIMEOUT`]).
    #[arg(long = flags::HEADER_READ_TIMEOUT.name, value_name = "DURATION", default_value = flags::HEADER_READ_TIMEOUT.text, help = flags::HEADER_READ_TIMEOUT.doc, value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// `--idle-timeout` ([`flags::IDLE_TIMEOUT`]).
    #[arg(long = flags::IDLE_TIMEOUT.name, value_name = "DURATION", default_value = flags::IDLE_TIMEOUT.text, help = flags::IDLE_TIMEOUT.doc, value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// `--max-header-bytes` ([`flags::MAX_HEADER_BYTES`]).
    #[arg(long = flags::MAX_HEADER_BYTES.name, value_name = "BYTES", default_value = flags::MAX_HEADER_BYTES.text, help = flags::MAX_HEADER_BYTES.doc)]
    pub max_header_bytes: usize,
    /// `--body-timeout` ([`flags::BODY_TIMEOUT`]).
    #[arg(long = flags::BODY_TIMEOUT.name, value_name = "DURATION", default_value = flags::BODY_TIMEOUT.text, help = flags::BODY_TIMEOUT.doc, value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// `--request-timeout` ([`flags::REQUEST_TIMEOUT`]).
    #[arg(long = flags::REQUEST_TIMEOUT.name, value_name = "DURATION", default_value = flags::REQUEST_TIMEOUT.text, help = flags::REQUEST_TIMEOUT.doc, value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// `--max-requests` ([`flags::MAX_REQUESTS`]).
    #[arg(long = flags::MAX_REQUESTS.name, value_name = "N", default_value = flags::MAX_REQUESTS.text, help = flags::MAX_REQUESTS.doc)]
    pub max_requests: usize,
    /// `--max-sse-streams` ([`flags::MAX_SSE_STREAMS`]).
    #[arg(long = flags::MAX_SSE_STREAMS.name, value_name = "N", default_value = flags::MAX_SSE_STREAMS.text, help = flags::MAX_SSE_STREAMS.doc)]
    pub max_sse_streams: usize,
    /// `--max-sse-streams-per-ip` ([`flags::MAX_SSE_STREAMS_PER_IP`]).
    #[arg(long = flags::MAX_SSE_STREAMS_PER_IP.name, value_name = "N", default_value = flags::MAX_SSE_STREAMS_PER_IP.text, help = flags::MAX_SSE_STREAMS_PER_IP.doc)]
    pub max_sse_streams_per_ip: usize,
    /// `--shutdown-timeout` ([`flags::SHUTDOWN_TIMEOUT`]).
    #[arg(long = flags::SHUTDOWN_TIMEOUT.name, value_name = "DURATION", default_value = flags::SHUTDOWN_TIMEOUT.text, help = flags::SHUTDOWN_TIMEOUT.doc, value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// `--workers` ([`flags::WORKERS`]).
    #[arg(long = flags::WORKERS.name, value_name = "N", default_value = flags::WORKERS.text, help = flags::WORKERS.doc)]
    pub workers: usize,
    /// `--h2c` ([`flags::H2C`]).
    #[arg(long = flags::H2C.name, help = flags::H2C.doc)]
    pub h2c: bool,
}

impl ConnectionArgs {
    /// The settings these flags say.
    pub(crate) fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            max_connections: self.max_connections,
            fd_reserve: self.fd_reserve,
            max_connections_per_ip: self.max_connections_per_ip,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            max_header_bytes: self.max_header_bytes,
            body_timeout: self.body_timeout,
            request_timeout: self.request_timeout,
            max_requests: self.max_requests,
            max_sse_streams: self.max_sse_streams,
            max_sse_streams_per_ip: self.max_sse_streams_per_ip,
            shutdown_timeout: self.shutdown_timeout,
            workers: self.workers,
            h2c: self.h2c,
        }
    }
}
