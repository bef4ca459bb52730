//! Section 10, the `conferbot` CLI's export: the calls it makes against the
//! fewest possible, and its wall time against the bound the rate limit sets,
//! with the sandbox at the upstream's 60/60s on a small workspace.

use std::process::Command;

use anyhow::{bail, Result};
use serde_json::json;

use super::node::{number, run_script};
use super::report::{ratio, Row, Section};
use super::servers::{Server, ENTERPRISE_KEY, UNLIMITED_RATE};
use super::Bench;

/// The upstream's rate, as the sandbox writes it.
const UPSTREAM_RATE: &str = "60/60s";
/// Calls the rate admits a minute.
const PER_MINUTE: f64 = 60.0;

/// Measures section 10.
pub fn measure(bench: &Bench) -> Result<Section> {
    let package = bench.package()?;
    let cli = package.dir.join("cli.js");
    if !cli.exists() {
        bail!("{} is missing (cargo xtask dist bundles it)", cli.display());
    }
    let chatbots = bench.settings.cli_chatbots.to_string();
    let sandbox = |name: &str, rate: &str| {
        let mut cmd = Command::new(bench.sandbox_bin()?);
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--rate",
            rate,
            "--chatbots",
            &chatbots,
        ]);
        Server::start_announced(name, cmd, &bench.logs)
    };
    let limited = sandbox("sandbox-cli-60", UPSTREAM_RATE)?;
    let twin = sandbox("sandbox-cli-twin", UNLIMITED_RATE)?;
    let mut section = Section::new(
        "cli",
        "10. CLI export",
        format!(
            "One `conferbot export responses --out FILE --quiet` (the bundled `pkg/cli.js`, default `--limit 100`, \
             Enterprise key) against the release sandbox at the upstream's `--rate {UPSTREAM_RATE}`, on a workspace \
             of {chatbots} chatbots with 0–60 responses each (seed 42). Calls are counted by the sandbox \
             (`GET /sandbox/stats`, after minus before); the minimum is pages of chatbots + Σ pages of responses, \
             read over plain HTTP from a twin sandbox with the same data and no rate limit. The rate bound is the \
             admitted calls ÷ 60 a minute. Targets: the calls that fetch records = 1.00× the minimum; wall time \
             ≤ 1.05× the bound."
        ),
    );
    let config = json!({
        "cli": cli, "api": format!("{}/api/v1", limited.origin()),
        "statsUrl": format!("{}/sandbox/stats", limited.origin()),
        "truthApi": format!("{}/api/v1", twin.origin()),
        "apiKey": ENTERPRISE_KEY, "out": bench.work.join("cli-export.jsonl"),
    });
    let (result, _) = run_script(bench.root, "cli-export.mjs", &[], &config)?;
    drop((limited, twin));
    let minimum = number(&result, "minimumCalls")?;
    let admitted = number(&result, "admitted")?;
    let rate_limited = number(&result, "rateLimited")?;
    let wall = number(&result, "wallMs")? / 1000.0;
    // The forecast's own call: `getUsage`, to say how many calls the month has left.
    let fetching = admitted - 1.0;
    let fetching_ratio = ratio(fetching, minimum);
    section.rows.push(
        Row::report(
            "calls that fetched records vs the minimum (pages of chatbots + Σ pages of responses)",
            format!("{fetching:.0}"),
            format!("{minimum:.0}"),
            fetching_ratio,
        )
        .target("1.00×", fetching == minimum),
    );
    section.rows.push(Row::report(
        "all calls admitted (with the forecast's `getUsage`) vs the minimum",
        format!("{admitted:.0}"),
        format!("{minimum:.0}"),
        ratio(admitted, minimum),
    ));
    let bound = admitted / PER_MINUTE * 60.0;
    let wall_ratio = ratio(wall, bound);
    section.rows.push(
        Row::report(
            format!("wall time vs the rate bound ({admitted:.0} calls ÷ 60 a minute)"),
            format!("{wall:.1} s"),
            format!("{bound:.1} s"),
            wall_ratio,
        )
        .target("≤ 1.05×", wall_ratio.is_some_and(|r| r <= 1.05)),
    );
    // A sliding window lets the first 60 calls through at once; then 60 a minute.
    let floor = ((admitted - 1.0) / PER_MINUTE).floor().max(0.0) * 60.0;
    section.rows.push(Row::report(
        "wall time vs the sliding window's floor (60 at once, then 60 a minute)",
        format!("{wall:.1} s"),
        format!("{floor:.1} s"),
        ratio(wall, floor),
    ));
    section.notes.push(format!(
        "{} responses of {} chatbots exported; the sandbox answered {rate_limited:.0} requests with 429 \
         (its `Retry-After` waited out inside the client, and not counted toward the month).",
        result["responses"], result["chatbots"]
    ));
    section.raw = result;
    Ok(section)
}
