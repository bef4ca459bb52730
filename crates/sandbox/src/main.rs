//! `conferbot-sandbox`: parses flags into a [`SandboxConfig`] and serves it.
//!
//! The first line on stdout is `listening on http://ADDR` (`https://` with
//! `--tls`) with the bound address, so a harness can start it with
//! `--listen 127.0.0.1:0` and read the port; logs go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use conferbot::{Plan, RateSpec};
use conferbot_sandbox::{keys, AnswerStyle, FaultSpec, RunningSandbox, SandboxConfig};

/// A local imitation of the Conferbot External API, under /api/v1/external/v1.
#[derive(Debug, Parser)]
#[command(
    name = "conferbot-sandbox",
    version,
    after_help = "\
Built-in API keys (send as x-api-key), one workspace each:
  sandbox-free-key        Free        (403: no API access)
  sandbox-starter-key     Starter     (10,000 calls/month, 5 webhooks)
  sandbox-pro-key         Pro         (50,000 calls/month, 15 webhooks)
  sandbox-business-key    Business    (200,000 calls/month, 50 webhooks)
  sandbox-enterprise-key  Enterprise  (unlimited calls, 999 webhooks)

Admin routes (no key): POST /sandbox/responses, GET /sandbox/deliveries,
GET|POST|DELETE /sandbox/faults, POST /sandbox/usage, GET /sandbox/stats,
POST /sandbox/reset, GET /sandbox/keys. See crates/sandbox/README.md."
)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// Serve HTTPS with a CA and a certificate for localhost, 127.0.0.1 and
    /// ::1 generated at start.
    #[arg(long)]
    tls: bool,
    /// With --tls: write the generated CA certificate (PEM) to this file
    /// before the `listening on` line, for clients to trust.
    #[arg(long, value_name = "PATH", requires = "tls")]
    tls_ca_out: Option<PathBuf>,
    /// Seed of all generated data, ids and secrets.
    #[arg(long, default_value_t = conferbot_sandbox::config::DEFAULT_SEED)]
    seed: u64,
    /// Chatbots in each workspace.
    #[arg(long, default_value_t = conferbot_sandbox::config::DEFAULT_CHATBOTS)]
    chatbots: usize,
    /// Most responses a chatbot has (each gets from 0 to this many; at most
    /// 100000, since a chatbot's responses are generated on every read).
    #[arg(long, default_value_t = conferbot_sandbox::config::DEFAULT_MAX_RESPONSES,
          value_parser = clap::value_parser!(u64).range(0..=100_000))]
    max_responses: u64,
    /// Seed answers that exporters must quote: commas, quotes, line breaks,
    /// nested values (see crates/sandbox/README.md).
    #[arg(long)]
    tricky_answers: bool,
    /// Per-key sliding-window limit, requests/window.
    #[arg(long, default_value = "60/60s")]
    rate: RateSpec,
    /// Another key and its workspace's plan, KEY=PLAN (repeatable).
    #[arg(long = "key", value_name = "KEY=PLAN", value_parser = keys::parse_key_flag)]
    keys: Vec<(String, Plan)>,
    /// Signing secret of every webhook created (default: a generated whsec_… per webhook).
    #[arg(long, value_name = "SECRET")]
    webhook_secret: Option<String>,
    /// First wait before retrying a failed webhook delivery (doubles each retry).
    #[arg(long, default_value = "1s", value_parser = conferbot::rate::parse_duration)]
    delivery_backoff: Duration,
    /// Fault for the first API calls, KIND[:COUNT[:ARG]] (status500, nonJson,
    /// truncated, delay, drop; ARG = status or delay ms). Repeatable.
    #[arg(long = "fault", value_name = "KIND:COUNT")]
    faults: Vec<FaultSpec>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = SandboxConfig {
        seed: args.seed,
        chatbots_per_workspace: args.chatbots,
        max_responses_per_chatbot: args.max_responses,
        answers: if args.tricky_answers {
            AnswerStyle::Tricky
        } else {
            AnswerStyle::Plain
        },
        rate: args.rate,
        extra_keys: args.keys,
        webhook_secret: args.webhook_secret,
        delivery_backoff: args.delivery_backoff,
        faults: args.faults,
    };
    let started = if args.tls {
        RunningSandbox::start_tls(config, args.listen).await
    } else {
        RunningSandbox::start(config, args.listen).await
    };
    let sandbox = started.with_context(|| format!("cannot listen on {}", args.listen))?;
    if let (Some(path), Some(pem)) = (&args.tls_ca_out, sandbox.ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("cannot write the CA to {}", path.display()))?;
    }
    let shutdown = shutdown_signal();
    // The first line is the contract with harnesses: print it before any log.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", sandbox.origin())?;
    stdout.flush()?;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    tracing::info!(base = %sandbox.base_url(), admin = %sandbox.admin_url(), "ready");
    shutdown.await;
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now (before the `listening on`
/// line, or a harness's prompt signal would meet the default action and kill
/// the process), and resolves on the first of either.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |stream: std::io::Result<tokio::signal::unix::Signal>| async move {
                match stream {
                    Ok(mut stream) => {
                        stream.recv().await;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "cannot listen for a shutdown signal");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}
