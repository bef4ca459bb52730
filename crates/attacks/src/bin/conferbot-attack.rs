//! `conferbot-attack`: the benchmarks' hostile load against the release BFF
//! (`$CONFERBOT_BFF_RELEASE`), printing its figures as one JSON line.
//!
//! ```text
//! conferbot-attack hostile                  legitimate latency and RSS during each attack
//! conferbot-attack streams STREAMS DELIVERIES   RSS and fan-out latency at STREAMS event streams
//! conferbot-attack memory                   an allocator's RSS: idle, header flood, per stream
//! ```

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use conferbot_attacks::scenarios;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(figures) => {
            println!("{figures}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("conferbot-attack: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<serde_json::Value> {
    conferbot_attacks::raise_own_descriptor_limit()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, what: &str| -> Result<usize> {
        args.get(i)
            .with_context(|| format!("missing {what}"))?
            .parse()
            .with_context(|| format!("{what} must be a number"))
    };
    match args.first().map(String::as_str) {
        Some("hostile") => scenarios::hostile().await,
        Some("streams") => {
            scenarios::streams(number(1, "STREAMS")?, number(2, "DELIVERIES")?).await
        }
        Some("memory") => scenarios::memory().await,
        _ => bail!("usage: conferbot-attack hostile | streams STREAMS DELIVERIES | memory"),
    }
}
