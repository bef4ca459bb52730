//! Section 16, fairness under a one-client burst: what a legitimate client's
//! reads cost while another client floods the BFF with distinct reads (the
//! cache cannot help), against the same reads with nobody flooding, and
//! against the same flood with pacing off (`--client-share 100%`, where one
//! client can take the whole window as before issue 12). Report only.

use std::net::SocketAddr;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde_json::json;

use super::http_load::{DISTINCT_PAGES, DISTINCT_PREFIX};
use super::report::{ms, per_second, ratio, Row, Section};
use super::servers::{self, BffOptions, Server};
use super::stats::percentile;
use super::wrk::{self, WrkRun};
use super::Bench;

/// The documented window's shape, ten times faster: 60 calls per 6 s.
const RATE: &str = "60/6s";
/// The flooding client and the legitimate one, behind the trusted proxy.
const ATTACKER: &str = "198.51.100.66";
const VICTIM: &str = "203.0.113.7";
/// The flood: wrk connections from the one attacking client (more requests
/// in flight than its share can serve within the queue wait, so most are
/// refused at once).
const FLOOD_CONNECTIONS: usize = 400;
/// The legitimate client: one read, then this pause, again and again.
const THINK: Duration = Duration::from_millis(200);

/// What the legitimate client saw in one run.
struct Reads {
    latencies_ms: Vec<f64>,
    ok: usize,
    total: usize,
}

/// Measures section 16.
pub fn measure(bench: &Bench) -> Result<Section> {
    let secs = bench.settings.wrk_duration.as_secs().max(3);
    let mut section = Section::new(
        "fairness",
        "16. Fairness",
        format!(
            "Release BFFs on the shared sandbox, `--rate {RATE} --cache-ttl 0 --trusted-proxy 127.0.0.1`, clients told \
             apart by `X-Forwarded-For`. The flood: `wrk -t1 -c{FLOOD_CONNECTIONS} -d{secs}s` over {DISTINCT_PAGES} \
             distinct URLs (`limit=10&page=N`), all as client {ATTACKER}. The legitimate client ({VICTIM}): one read \
             of a page of its own over a fresh connection, then {} ms, for {secs} s, timed from connect to the last \
             byte. Ours: the default `--client-share 10%` during the flood; peers: the same reads with nobody \
             flooding, and the same flood with pacing off (`--client-share 100%`). No target (report only).",
            THINK.as_millis()
        ),
    );
    let wrk = wrk::ensure()?;
    let sandbox = bench.sandbox()?;
    let bff_bin = bench.bff_bin()?;
    let script = bench.work.join("fairness-pages.lua");
    wrk::write_random_pages_script(&script, DISTINCT_PREFIX, DISTINCT_PAGES)?;
    let duration = Duration::from_secs(secs);

    let start = |name: &str, share: &str| -> Result<Server> {
        let options = BffOptions {
            name,
            cache_ttl: Some("0"),
            rate: Some(RATE),
            static_dirs: None,
        };
        let mut cmd: Command = servers::bff_command(bff_bin, sandbox, &options);
        cmd.args(["--trusted-proxy", "127.0.0.1", "--client-share", share]);
        Server::start_announced(name, cmd, &bench.logs)
    };
    let flood = |server: &Server| -> Result<(Reads, WrkRun)> {
        let url = server.origin();
        let wrk = wrk.clone();
        let script = script.clone();
        let attacker = thread::spawn(move || {
            let headers = [("X-Forwarded-For", ATTACKER)];
            let load = wrk::Load {
                threads: 1,
                connections: FLOOD_CONNECTIONS,
                duration,
                headers: &headers,
                script: Some(script.as_path()),
            };
            wrk::run(&wrk, &url, &load)
        });
        // The flood is under way before the first legitimate read.
        thread::sleep(Duration::from_millis(500));
        let reads = legitimate_reads(server.addr, duration - Duration::from_secs(1))?;
        let run = attacker
            .join()
            .map_err(|_| anyhow!("the flood's thread panicked"))??;
        Ok((reads, run))
    };

    let fair = start("bff-fair", "10%")?;
    let alone = legitimate_reads(fair.addr, duration - Duration::from_secs(1))?;
    let (during, fair_flood) = flood(&fair)?;
    drop(fair);
    let unpaced = start("bff-unpaced", "100%")?;
    let (unpaced_reads, unpaced_flood) = flood(&unpaced)?;
    drop(unpaced);

    let p = |reads: &Reads, q: f64| percentile(&reads.latencies_ms, q);
    let answered = |reads: &Reads| format!("{} of {}", reads.ok, reads.total);
    section.rows.push(Row::report(
        "legitimate reads answered 200 (ours: during the flood; peer: nobody flooding)",
        answered(&during),
        answered(&alone),
        None,
    ));
    section.rows.push(Row::report(
        "legitimate p50 / p99 (ours: during the flood; peer: nobody flooding)",
        format!("{} / {}", ms(p(&during, 50.0)), ms(p(&during, 99.0))),
        format!("{} / {}", ms(p(&alone, 50.0)), ms(p(&alone, 99.0))),
        ratio(p(&during, 99.0), p(&alone, 99.0)),
    ));
    section.rows.push(Row::report(
        "during the flood, legitimate reads answered 200 (ours: share 10%; peer: pacing off)",
        answered(&during),
        answered(&unpaced_reads),
        None,
    ));
    section.rows.push(Row::report(
        "during the flood, legitimate p50 / p99 (ours: share 10%; peer: pacing off)",
        format!("{} / {}", ms(p(&during, 50.0)), ms(p(&during, 99.0))),
        format!(
            "{} / {}",
            ms(p(&unpaced_reads, 50.0)),
            ms(p(&unpaced_reads, 99.0))
        ),
        ratio(p(&during, 99.0), p(&unpaced_reads, 99.0)),
    ));
    section.rows.push(Row::report(
        "the flooding client: answers/s (ours: share 10%; peer: pacing off)",
        per_second(fair_flood.rps),
        per_second(unpaced_flood.rps),
        ratio(fair_flood.rps, unpaced_flood.rps),
    ));
    section.notes.push(format!(
        "The flooding client's answers: {} of {} refused (429 with Retry-After: what its share cannot serve \
         within the queue wait) with the share, {} of {} with pacing off; its other requests were answered.",
        fair_flood.non_2xx, fair_flood.requests, unpaced_flood.non_2xx, unpaced_flood.requests
    ));
    section.raw = json!({
        "alone_ms": alone.latencies_ms,
        "during_ms": during.latencies_ms,
        "unpaced_ms": unpaced_reads.latencies_ms,
        "flood": fair_flood.to_json(),
        "unpaced_flood": unpaced_flood.to_json(),
    });
    Ok(section)
}

/// The legitimate client's reads for `duration`: distinct pages of its own
/// (`limit=2`, so never the flood's URLs), one at a time.
fn legitimate_reads(addr: SocketAddr, duration: Duration) -> Result<Reads> {
    let end = Instant::now() + duration;
    let mut reads = Reads {
        latencies_ms: Vec::new(),
        ok: 0,
        total: 0,
    };
    let headers = [("X-Forwarded-For", VICTIM)];
    let mut page = 0_u32;
    while Instant::now() < end {
        page += 1;
        let path = format!("/api/conferbot/external/v1/chatbots?limit=2&page={page}");
        let started = Instant::now();
        let (status, _) = servers::http_get(addr, &path, &headers)?;
        reads
            .latencies_ms
            .push(started.elapsed().as_secs_f64() * 1_000.0);
        reads.total += 1;
        reads.ok += usize::from(status == 200);
        thread::sleep(THINK);
    }
    Ok(reads)
}
