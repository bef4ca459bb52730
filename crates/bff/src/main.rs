//! `conferbot-bff`: parses the flags and serves. Everything else is in the library.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use conferbot_bff::connection::descriptors;
use conferbot_bff::{logging, serve, shutdown, Cli};

// Every forwarded request allocates on whichever worker thread polls it and
// frees on another; glibc's arenas spent a fifth of the uncached path's CPU
// on that (malloc, free, arena locks), mimalloc's thread-local heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
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
    // Harnesses parse these lines: first the BFF, then the sandbox's root.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    if let Some(sandbox) = launch.sandbox_addr() {
        writeln!(stdout, "sandbox on http://{sandbox}")?;
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
