//! Section 14, allocators: the release BFF built with each candidate
//! allocator (jemalloc, the binary's; mimalloc, its previous one; glibc's
//! malloc), each measured alike: RSS idle, holding a header flood and 2 s
//! after it, per event stream (`conferbot-attack memory`), and CPU per
//! request under `wrk` over 1,000 distinct uncached URLs (the forwarding
//! path, where allocation is per request). Ours: jemalloc; peer: mimalloc.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::http_load::{DISTINCT_PAGES, DISTINCT_PREFIX, PROXY_PATH};
use super::report::{mib_from_kib, ratio, us, Row, Section};
use super::servers::{self, BffOptions, UNLIMITED_RATE};
use super::wrk;
use super::Bench;
use crate::process::run as run_step;
use crate::tools;

/// The candidates: a name and the `conferbot-bff` features that select it.
const CANDIDATES: [(&str, &[&str]); 3] = [
    ("jemalloc", &[]),
    ("mimalloc", &["allocator-mimalloc"]),
    ("glibc", &["allocator-glibc"]),
];

/// Builds the BFF with `features` and keeps a copy of the binary.
fn build(bench: &Bench, name: &str, features: &[&str]) -> Result<PathBuf> {
    let mut cmd = tools::cargo();
    cmd.args(["build", "--release", "-p", "conferbot-bff"]);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    run_step(cmd.current_dir(bench.root))?;
    let built = bench
        .root
        .join("target")
        .join("release")
        .join("conferbot-bff");
    let copy = bench.work.join(format!("conferbot-bff-{name}"));
    std::fs::copy(&built, &copy).with_context(|| format!("copying {}", built.display()))?;
    Ok(copy)
}

/// CPU per request (µs) of `bin` under wrk over distinct uncached URLs.
fn cpu_per_request(bench: &Bench, bin: &Path, name: &str) -> Result<f64> {
    let wrk = wrk::ensure()?;
    let options = BffOptions {
        name,
        cache_ttl: Some("0"),
        rate: Some(UNLIMITED_RATE),
        static_dirs: None,
    };
    let bff = servers::start_bff(bin, bench.sandbox()?, &options, &bench.logs)?;
    servers::expect_ok(bff.addr, PROXY_PATH, &[], name)?;
    let script = bench.work.join("random-pages.lua");
    wrk::write_random_pages_script(&script, DISTINCT_PREFIX, DISTINCT_PAGES)?;
    let load = wrk::Load {
        threads: 2,
        connections: 64,
        duration: bench.settings.wrk_duration,
        headers: &[],
        script: Some(&script),
    };
    let before = servers::cpu_seconds(bff.pid())?;
    let run = wrk::run(&wrk, &format!("http://{}{PROXY_PATH}", bff.addr), &load)?;
    let spent = servers::cpu_seconds(bff.pid())? - before;
    Ok(spent * 1e6 / run.requests.max(1) as f64)
}

/// Measures section 14.
pub fn measure(bench: &Bench) -> Result<Section> {
    let mut section = Section::new(
        "allocators",
        "14. Allocators",
        "The release BFF built three times (`cargo build --release -p conferbot-bff`, then with `--features \
         allocator-mimalloc` and `--features allocator-glibc`), each measured alike by `conferbot-attack memory` \
         (embedded sandbox): RSS idle after 50 requests; holding 2,000 connections of stalled 15 KiB heads; 2 s \
         after they closed; and per event stream (3,000 open). CPU per request: user + system time of the BFF \
         under `wrk -t2 -c64` over 1,000 distinct URLs with `--cache-ttl 0` against the shared sandbox, divided \
         by the requests. jemalloc runs with `background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0` \
         (src/main.rs); mimalloc (v3, as the crate builds it) and glibc with their defaults. Ours: jemalloc; \
         peer: mimalloc. Rebuilt last with the default features, so `target/release` ends as it started.",
    );
    let mut figures = Vec::new();
    // Build the candidates, then the default again last.
    let mut bins = Vec::new();
    for (name, features) in CANDIDATES.iter().rev() {
        bins.push((*name, build(bench, name, features)?));
    }
    bins.reverse();
    for (name, bin) in &bins {
        let memory = super::hostile::attack(bench.root, bin, &["memory"])?;
        let cpu = cpu_per_request(bench, bin, &format!("bff-{name}")).ok();
        figures.push((*name, memory, cpu));
    }
    let get = |i: usize, field: &str| {
        figures
            .get(i)
            .and_then(|(_, m, _)| m[field].as_f64())
            .unwrap_or(f64::NAN)
    };
    for (field, what) in [
        ("idleKib", "RSS idle"),
        ("floodHeldKib", "RSS holding 2,000 stalled 15 KiB heads"),
        ("floodAfterKib", "RSS 2 s after the flood closed"),
    ] {
        section.rows.push(Row::report(
            format!("{what} (glibc: {})", mib_from_kib(get(2, field))),
            mib_from_kib(get(0, field)),
            mib_from_kib(get(1, field)),
            ratio(get(0, field), get(1, field)),
        ));
    }
    section.rows.push(Row::report(
        format!(
            "RSS per event stream (glibc: {:.1} KiB)",
            get(2, "streamKib")
        ),
        format!("{:.1} KiB", get(0, "streamKib")),
        format!("{:.1} KiB", get(1, "streamKib")),
        ratio(get(0, "streamKib"), get(1, "streamKib")),
    ));
    let cpu = |i: usize| figures.get(i).and_then(|(_, _, c)| *c).unwrap_or(f64::NAN);
    section.rows.push(Row::report(
        format!(
            "CPU per request, 1,000 distinct uncached URLs (glibc: {})",
            us(cpu(2))
        ),
        us(cpu(0)),
        us(cpu(1)),
        ratio(cpu(0), cpu(1)),
    ));
    section.raw = json!(figures
        .iter()
        .map(|(name, memory, cpu)| json!({"allocator": name, "memory": memory, "cpuUsPerRequest": cpu}))
        .collect::<Vec<Value>>());
    Ok(section)
}
