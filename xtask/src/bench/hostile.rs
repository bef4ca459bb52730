//! Sections 11 and 12: the BFF under the attacks of issue 12, and at 10,000
//! event streams. The load is `conferbot-attack` (`crates/attacks`, release
//! build), which starts the release BFF itself (with its embedded sandbox)
//! and prints its figures as JSON.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::Value;

use super::report::{mib_from_kib, ms, ratio, Row, Section};
use super::Bench;
use crate::process::run as run_step;
use crate::tools;

/// Event streams of section 13, and the deliveries fanned out to them.
const STREAMS: usize = 10_000;
const DELIVERIES: usize = 20;

/// The release `conferbot-attack`, built now.
pub fn attack_bin(root: &Path) -> Result<PathBuf> {
    run_step(
        tools::cargo()
            .args(["build", "--release", "-p", "conferbot-attacks"])
            .current_dir(root),
    )?;
    Ok(root.join("target").join("release").join("conferbot-attack"))
}

/// Runs `conferbot-attack args` against the BFF `bff`; its JSON.
pub fn attack(root: &Path, bff: &Path, args: &[&str]) -> Result<Value> {
    let bin = attack_bin(root)?;
    let out = std::process::Command::new(&bin)
        .args(args)
        .env("CONFERBOT_BFF_RELEASE", bff)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("starting {}", bin.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "conferbot-attack {} failed ({})",
            args.join(" "),
            out.status
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).with_context(|| format!("conferbot-attack printed {text:?}"))
}

fn number(value: &Value, pointer: &str) -> Result<f64> {
    value
        .pointer(pointer)
        .and_then(Value::as_f64)
        .ok_or_else(|| anyhow!("no {pointer} in {value}"))
}

/// Section 12.
pub fn measure_attacks(bench: &Bench) -> Result<Section> {
    let mut section = Section::new(
        "hostile",
        "12. Hostile clients",
        "Each attack of issue 12 against a fresh release BFF (embedded sandbox, default limits), from \
         attacker addresses 127.10.x.y (`conferbot-attack hostile`, one Tokio process on the same machine). \
         Legitimate client: 200 `GET /healthz`, each on a new connection from 127.0.0.1, 2 ms apart, timed from \
         `connect` to the end of the answer; before the attack (peer) and while the attacker holds its sockets \
         (ours). RSS: `VmRSS` idle, after the legitimate series during the attack, and 2 s after the attacker \
         closed its sockets. No target: reported.",
    );
    let result = attack(bench.root, bench.bff_bin()?, &["hostile"])?;
    let attacks = result["attacks"]
        .as_array()
        .ok_or_else(|| anyhow!("no attacks in {result}"))?;
    for attack in attacks {
        let what = attack["what"].as_str().unwrap_or("?");
        let (p50, p99) = (
            number(attack, "/during/p50Ms")?,
            number(attack, "/during/p99Ms")?,
        );
        let (base50, base99) = (
            number(attack, "/without/p50Ms")?,
            number(attack, "/without/p99Ms")?,
        );
        section.rows.push(Row::report(
            format!(
                "{what}: legitimate p50 / p99 (ours: during; peer: without); failed {}",
                attack["during"]["failed"]
            ),
            format!("{} / {}", ms(p50), ms(p99)),
            format!("{} / {}", ms(base50), ms(base99)),
            ratio(p99, base99),
        ));
        section.rows.push(Row::report(
            format!("{what}: RSS idle → during → 2 s after"),
            format!(
                "{} → {} → {}",
                mib_from_kib(number(attack, "/rssKib/idle")?),
                mib_from_kib(number(attack, "/rssKib/during")?),
                mib_from_kib(number(attack, "/rssKib/after")?)
            ),
            "—",
            None,
        ));
    }
    section.raw = result;
    Ok(section)
}

/// Section 13.
pub fn measure_streams(bench: &Bench) -> Result<Section> {
    let mut section = Section::new(
        "sse10k",
        "13. SSE at 10,000 streams",
        format!(
            "A release BFF (embedded sandbox, default limits, `CONFERBOT_WEBHOOK_SECRET` set) with {STREAMS} \
             event streams open from 313 addresses 127.10.x.y (32 each, the default per-address cap), read by \
             `conferbot-attack streams {STREAMS} {DELIVERIES}` (one Tokio process on the same two cores). Then \
             {DELIVERIES} signed `response.created` deliveries, one at a time 200 ms apart; fan-out latency: \
             from the start of a delivery's POST to its event's arrival on each stream ({} samples). Streams \
             per GiB: {STREAMS} ÷ (RSS with the streams − RSS idle). Targets: RSS under 150 MiB, fan-out p99 \
             under 100 ms.",
            STREAMS * DELIVERIES
        ),
    );
    let result = attack(
        bench.root,
        bench.bff_bin()?,
        &["streams", &STREAMS.to_string(), &DELIVERIES.to_string()],
    )?;
    let (idle, held) = (
        number(&result, "/rssKib/idle")?,
        number(&result, "/rssKib/withStreams")?,
    );
    let rss_mib = held / 1024.0;
    section.rows.push(
        Row::report(
            format!("RSS with {STREAMS} streams (idle: {})", mib_from_kib(idle)),
            mib_from_kib(held),
            "—",
            None,
        )
        .target("< 150 MiB", rss_mib < 150.0),
    );
    let per_gib = STREAMS as f64 / ((held - idle).max(1.0) / (1024.0 * 1024.0));
    section.rows.push(Row::report(
        "event streams held per GiB",
        format!("{per_gib:.0}"),
        "—",
        None,
    ));
    let p99 = number(&result, "/fanOut/p99Ms")?;
    section.rows.push(
        Row::report(
            format!("fan-out p50 / p99 ({} events missing)", result["missing"]),
            format!("{} / {}", ms(number(&result, "/fanOut/p50Ms")?), ms(p99)),
            "—",
            None,
        )
        .target("p99 < 100 ms", p99 < 100.0),
    );
    section.rows.push(Row::report(
        "BFF CPU per event delivered to one stream (user + system over the delivery phase)",
        format!("{:.1} µs", number(&result, "/bffCpuUsPerEvent")?),
        "—",
        None,
    ));
    section.notes.push(format!(
        "Opening the {STREAMS} streams took {}.",
        ms(number(&result, "/connectMs")?)
    ));
    section.raw = result;
    Ok(section)
}
