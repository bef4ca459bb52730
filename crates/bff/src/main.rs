//! `conferbot-bff`: parses the flags and serves. Everything else is in the library.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use conferbot_bff::connection::descriptors;
use conferbot_bff::{logging, serve, shutdown, Cli};

// jemalloc, chosen by measurement (BENCHMARKS.md, "Allocators": `cargo xtask
// bench --only allocators`): after a flood of 2,000 stalled header floods it
// gives the memory back within a second (glibc kept it all; mimalloc kept it
// until the next traffic, and madvised huge pages doubled its idle RSS), it
// holds an event stream in the fewest bytes, and it costs no more CPU per
// request than mimalloc. The features swap it only for that comparison.
#[cfg(not(any(feature = "allocator-mimalloc", feature = "allocator-glibc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[cfg(feature = "allocator-mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// jemalloc's options, read before `main` runs: a background thread purges
/// freed pages once they have been unused for a second (`dirty_decay_ms`),
/// straight back to the system (`muzzy_decay_ms:0`: no lazy `MADV_FREE`
/// stage that would still count in RSS until the kernel is short of memory).
#[cfg(not(any(feature = "allocator-mimalloc", feature = "allocator-glibc")))]
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: Option<&'static std::ffi::c_char> = {
    const CONF: &std::ffi::CStr = c"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
    // SAFETY: a pointer to the first byte of a NUL-terminated static string
    // is a valid `&c_char` for ever; jemalloc reads it as `const char *`.
    Some(unsafe { &*CONF.as_ptr() })
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Held until main returns: the access log's queued lines are written then.
    let _log = logging::init(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("conferbot-bff: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Every connection holds a descriptor: take all the system allows before
    // anything is opened (the connection cap stays --fd-reserve below it).
    match descriptors::raise_limit() {
        Ok(limit) if limit.after != limit.before => {
            tracing::info!(
                before = limit.before,
                after = limit.after,
                "raised RLIMIT_NOFILE to the hard limit"
            );
        }
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(error = %err, limit = descriptors::limit(), "cannot raise RLIMIT_NOFILE")
        }
    }
    let launch = cli.launch().await?;
    let listener = tokio::net::TcpListener::bind(launch.listen)
        .await
        .with_context(|| format!("cannot listen on {}", launch.listen))?;
    let addr = listener.local_addr()?;
    // Handlers first: a harness may signal as soon as it reads the line below.
    let shutdown = shutdown::signal();
    // Harnesses parse these lines: first the BFF, then the sandbox's root,
    // then where /metrics is served apart.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    if let Some(sandbox) = launch.sandbox_addr() {
        writeln!(stdout, "sandbox on http://{sandbox}")?;
    }
    if let Some(metrics) = launch.metrics_addr() {
        writeln!(stdout, "metrics on http://{metrics}/metrics")?;
    }
    stdout.flush()?;
    drop(stdout);
    tracing::info!(%addr, upstream = %launch.config.settings.upstream, "conferbot-bff serving");
    let live = launch.start_live_sandbox(addr);
    let (config, sandbox) = launch.into_parts();
    serve(config, listener, shutdown).await?;
    if let Some(live) = live {
        live.abort();
    }
    sandbox.shutdown().await;
    Ok(())
}
