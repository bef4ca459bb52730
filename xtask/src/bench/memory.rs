//! Section 7, BFF memory: resident set size (`VmRSS` of `/proc/PID/status`)
//! idle and under 1,000 concurrent keep-alive connections, sampled while
//! `wrk -c1000` runs; nginx (master plus workers) under the same load as peer.

use std::fs;
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde_json::json;

use super::http_load::PROXY_PATH;
use super::nginx;
use super::report::{mib_from_kib, ratio, Row, Section};
use super::servers::{self, children, BffOptions, UNLIMITED_RATE};
use super::wrk::{self, WrkRun};
use super::Bench;

/// Concurrent keep-alive connections of the load.
const CONNECTIONS: usize = 1_000;
/// How often RSS is sampled during the load.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// Memory of one server: idle, peak under load, and the load's figures.
struct Footprint {
    idle: Memory,
    peak: Memory,
    load: WrkRun,
}

/// Picks one figure of a footprint.
type Field = fn(&Footprint) -> u64;

/// Resident memory of a process and its children, in KiB, two ways: VmRSS
/// (summed, pages shared between nginx's processes count once per process)
/// and PSS (shared pages split between the processes sharing them).
#[derive(Clone, Copy, Default)]
struct Memory {
    rss_kib: u64,
    pss_kib: u64,
}

impl Memory {
    fn max(self, other: Memory) -> Memory {
        Memory {
            rss_kib: self.rss_kib.max(other.rss_kib),
            pss_kib: self.pss_kib.max(other.pss_kib),
        }
    }
}

/// Measures section 7.
pub fn measure(bench: &Bench) -> Result<Section> {
    let secs = bench.settings.wrk_duration.as_secs();
    let mut section = Section::new(
        "memory",
        "7. BFF memory",
        format!(
            "RSS (`VmRSS` from `/proc/PID/status`, every {} ms) idle (after one request) and its peak under \
             `wrk -t2 -c{CONNECTIONS} -d{secs}s` of cached GETs (1,000 concurrent keep-alive connections). \
             Ours: the BFF with `--cache-ttl 2s`. Peer: nginx with `proxy_cache`, master plus its children (2 workers, cache manager and loader), \
             summed; since summing VmRSS counts the pages nginx's processes share once per process, PSS \
             (`/proc/PID/smaps_rollup`, shared pages split) is given for both too. No target: reported.",
            SAMPLE_EVERY.as_millis()
        ),
    );
    let wrk = wrk::ensure()?;
    let sandbox = bench.sandbox()?;
    let options = BffOptions {
        name: "bff-memory",
        cache_ttl: Some("2s"),
        rate: Some(UNLIMITED_RATE),
        static_dirs: None,
    };
    let ours = {
        let bff = servers::start_bff(bench.bff_bin()?, sandbox, &options, &bench.logs)?;
        footprint(&wrk, bench, bff.pid(), bff.addr)?
    };
    let peer = nginx::ensure()
        .and_then(|bin| {
            nginx::start(
                &bin,
                &bench.work,
                &bench.logs,
                "nginx-memory",
                sandbox.addr,
                None,
            )
        })
        .and_then(|n| footprint(&wrk, bench, n.server.pid(), n.cached));

    let peer_kib = |f: Field| peer.as_ref().map(|p| f(p) as f64);
    let text = |value: &Result<f64, &anyhow::Error>| match value {
        Ok(kib) => mib_from_kib(*kib),
        Err(err) => format!("not measured: {err:#}"),
    };
    let rows: [(&str, Field); 4] = [
        ("VmRSS idle", |f| f.idle.rss_kib),
        ("peak VmRSS under 1,000 keep-alive connections", |f| {
            f.peak.rss_kib
        }),
        ("PSS idle", |f| f.idle.pss_kib),
        ("peak PSS under 1,000 keep-alive connections", |f| {
            f.peak.pss_kib
        }),
    ];
    for (measure, field) in rows {
        let peer_value = peer_kib(field);
        let ours_value = field(&ours) as f64;
        let peer_ratio = peer_value.as_ref().ok().and_then(|p| ratio(ours_value, *p));
        section.rows.push(Row::report(
            measure,
            mib_from_kib(ours_value),
            text(&peer_value),
            peer_ratio,
        ));
    }
    let rps = |f: &Footprint| {
        format!(
            "{:.0}/s, {} non-2xx, {} socket errors",
            f.load.rps, f.load.non_2xx, f.load.socket_errors
        )
    };
    section.rows.push(Row::report(
        "the load itself",
        rps(&ours),
        peer.as_ref().map(rps).unwrap_or_else(|_| "—".into()),
        None,
    ));
    let as_json = |f: &Footprint| {
        json!({"idle_rss_kib": f.idle.rss_kib, "peak_rss_kib": f.peak.rss_kib,
               "idle_pss_kib": f.idle.pss_kib, "peak_pss_kib": f.peak.pss_kib, "load": f.load.to_json()})
    };
    section.raw = json!({"bff": as_json(&ours), "nginx": peer.as_ref().ok().map(as_json)});
    Ok(section)
}

/// Idle RSS, then the peak while `wrk` holds 1,000 connections to `addr`.
fn footprint(
    wrk: &std::path::Path,
    bench: &Bench,
    pid: u32,
    addr: SocketAddr,
) -> Result<Footprint> {
    servers::expect_ok(addr, PROXY_PATH, &[], "the server under memory load")?;
    thread::sleep(Duration::from_millis(300));
    let idle = tree_memory(pid)?;
    let url = format!("http://{addr}{PROXY_PATH}");
    let duration = bench.settings.wrk_duration;
    let (load, peak) = thread::scope(|scope| -> Result<(WrkRun, Memory)> {
        let shape = wrk::Load {
            threads: 2,
            connections: CONNECTIONS,
            duration,
            headers: &[],
            script: None,
        };
        let handle = scope.spawn(move || wrk::run(wrk, &url, &shape));
        let mut peak = idle;
        while !handle.is_finished() {
            peak = peak.max(tree_memory(pid).unwrap_or_default());
            thread::sleep(SAMPLE_EVERY);
        }
        let run = handle
            .join()
            .map_err(|_| anyhow!("the wrk thread panicked"))??;
        Ok((run, peak))
    })?;
    Ok(Footprint { idle, peak, load })
}

/// Memory of `pid` plus its direct children (nginx's workers).
fn tree_memory(pid: u32) -> Result<Memory> {
    let mut total = Memory {
        rss_kib: kib_field(pid, "status", "VmRSS:")?,
        pss_kib: kib_field(pid, "smaps_rollup", "Pss:")?,
    };
    for child in children(pid) {
        total.rss_kib += kib_field(child, "status", "VmRSS:").unwrap_or(0);
        total.pss_kib += kib_field(child, "smaps_rollup", "Pss:").unwrap_or(0);
    }
    Ok(total)
}

/// A `Name:  123 kB` line of `/proc/PID/<file>`.
fn kib_field(pid: u32, file: &str, name: &str) -> Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/{file}"))
        .with_context(|| format!("reading /proc/{pid}/{file}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/{file}"))
}
