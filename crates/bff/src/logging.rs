//! Logs: structured, on stderr (stdout carries only the `listening on` lines
//! that harnesses parse).
//!
//! The access log (one line per request, target [`ACCESS_TARGET`]) is
//! handed to a thread of its own that writes it (tracing-appender's
//! non-blocking writer, over a 64 KiB buffer it flushes whenever its queue
//! is empty): a worker formats the line but never waits for `write(2)`, and
//! under load one write carries many lines. Measured on a cached answer
//! (wrk -t2 -c64, one URL, the BFF's user + system CPU per request, against
//! the same BFF at `RUST_LOG=warn`): the access log cost 3 to 5 µs of about
//! 19 when each worker wrote its own lines, about 1.3 µs of 15.9 this way.
//! It loses nothing: when its queue is full ([`ACCESS_QUEUE_LINES`] lines,
//! a bound on the memory a stalled stderr can take), the request that logs
//! waits, as every request did before;
//! what is queued is written before the process exits. Every other line is
//! written at once, where it happens, so that start-up warnings and errors
//! are on stderr before anything else goes on.

use std::io::{BufWriter, IsTerminal};

use clap::ValueEnum;
use tracing::Metadata;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::filter::{filter_fn, FilterFn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The target of the access log's lines: `RUST_LOG=info,conferbot_bff::access=warn`
/// keeps every line but them (when a load balancer logs requests already).
pub const ACCESS_TARGET: &str = "conferbot_bff::access";

/// The access log's queue, in lines (about 250 bytes each: 2 MiB at most).
pub const ACCESS_QUEUE_LINES: usize = 8_192;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Keeps the access log's writer thread; dropping it writes what is queued.
#[must_use = "the access log's queued lines are written when this is dropped"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info`.
/// Colours only on a terminal (escape codes in a log file are noise to
/// whoever reads it). Does nothing if one is installed already (tests
/// install their own).
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (access_writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(ACCESS_QUEUE_LINES)
        .thread_name("conferbot-bff-access-log")
        // Its thread takes every queued line, then flushes: under load one
        // `write(2)` carries many lines; when idle, each line at once.
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    let ansi = std::io::stderr().is_terminal();
    let installed = match format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(
                fmt::layer()
                    .json()
                    .with_writer(access_writer)
                    .with_filter(access_lines(true)),
            )
            .with(
                fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_filter(access_lines(false)),
            )
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::registry()
            .with(filter)
            .with(
                fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(access_writer)
                    .with_filter(access_lines(true)),
            )
            .with(
                fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr)
                    .with_filter(access_lines(false)),
            )
            .try_init(),
    };
    LogGuard {
        _writer: installed.is_ok().then_some(guard),
    }
}

/// The access log's lines (`access`), or every other line.
fn access_lines(access: bool) -> FilterFn<impl Fn(&Metadata<'_>) -> bool> {
    filter_fn(move |meta| (meta.target() == ACCESS_TARGET) == access)
}
