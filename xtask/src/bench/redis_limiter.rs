//! Section 9, Redis-backed limiter cost: the same `wrk` load on a BFF whose
//! limiter, cache, coalescing and events live in Redis (`--redis`) and on one
//! that keeps them in process. Report only.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::http_load::{
    alternate, median_of, note_errors, runs_json, CONNECTIONS, DISTINCT_PAGES, DISTINCT_PREFIX,
    PROXY_PATH, THREADS,
};
use super::report::{ms, per_second, ratio, us, Row, Section};
use super::servers::{self, BffOptions, Server, UNLIMITED_RATE};
use super::wrk::{self, WrkRun};
use super::Bench;

/// Debian's Redis server.
const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// Measures section 9.
pub fn measure(bench: &Bench) -> Result<Section> {
    let settings = &bench.settings;
    let secs = settings.wrk_duration.as_secs();
    let mut section = Section::new(
        "redis",
        "9. Redis-backed limiter cost",
        format!(
            "`wrk -t{THREADS} -c{CONNECTIONS} -d{secs}s --latency` over {DISTINCT_PAGES} distinct URLs \
             (`limit=10&page=N`, the Lua script of section 5) against two release BFFs started alike \
             (`--cache-ttl 0 --rate {UNLIMITED_RATE}`, the shared sandbox, the Enterprise key): ours with \
             `--redis redis://127.0.0.1:PORT/` (Debian's `redis-server`, no persistence, on loopback), the peer \
             with in-process state. Median of {} alternating round(s). Server CPU per request: the BFF's user + \
             system time from `/proc/PID/stat` over the run, divided by the requests (Redis's own CPU excluded). \
             No target (report only).",
            settings.wrk_rounds
        ),
    );
    if !Path::new(REDIS_SERVER).exists() {
        bail!("redis-server missing ({REDIS_SERVER})");
    }
    let wrk = wrk::ensure()?;
    let sandbox = bench.sandbox()?;
    let bff_bin = bench.bff_bin()?;

    let dir = bench.work.join("redis");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let redis_addr = servers::free_local_addr()?;
    let mut cmd = Command::new(REDIS_SERVER);
    cmd.args(["--port", &redis_addr.port().to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .current_dir(&dir);
    let redis = Server::start_silent("redis", cmd, redis_addr, &bench.logs)?;

    let options = |name| BffOptions {
        name,
        cache_ttl: Some("0"),
        rate: Some(UNLIMITED_RATE),
        static_dirs: None,
    };
    let with_redis = options("bff-redis");
    let mut cmd = servers::bff_command(bff_bin, sandbox, &with_redis);
    cmd.arg("--redis").arg(format!("redis://{redis_addr}/"));
    let bff_redis = Server::start_announced(with_redis.name, cmd, &bench.logs)?;
    let bff_local = servers::start_bff(bff_bin, sandbox, &options("bff-in-process"), &bench.logs)?;
    servers::expect_ok(bff_redis.addr, PROXY_PATH, &[], "the Redis-backed BFF")?;
    servers::expect_ok(bff_local.addr, PROXY_PATH, &[], "the in-process BFF")?;
    let (_, health) = servers::http_get(bff_redis.addr, "/healthz", &[])?;
    if !health.contains(r#""redis":"up""#) {
        bail!("the Redis-backed BFF does not use Redis: /healthz says {health}");
    }

    let script = bench.work.join("random-pages.lua");
    wrk::write_random_pages_script(&script, DISTINCT_PREFIX, DISTINCT_PAGES)?;
    let shape = wrk::Load {
        threads: THREADS,
        connections: CONNECTIONS,
        duration: settings.wrk_duration,
        headers: &[],
        script: Some(script.as_path()),
    };
    let load = |server: &Server| -> Result<WrkRun> {
        let before = servers::cpu_seconds(server.pid())?;
        let mut run = wrk::run(&wrk, &format!("{}{PROXY_PATH}", server.origin()), &shape)?;
        let spent = servers::cpu_seconds(server.pid())? - before;
        run.server_cpu_us = (run.requests > 0).then(|| spent * 1e6 / run.requests as f64);
        Ok(run)
    };
    let (ours, peer) = alternate(
        settings.wrk_rounds,
        || load(&bff_redis),
        || load(&bff_local).map(Some),
    )?;
    drop(bff_redis);
    drop(bff_local);
    drop(redis);
    let _ = fs::remove_dir_all(&dir);

    let mut problems = Vec::new();
    note_errors(&mut problems, "BFF with Redis", &ours);
    note_errors(&mut problems, "BFF in-process", &peer);
    let (ours_rps, peer_rps) = (median_of(&ours, |r| r.rps), median_of(&peer, |r| r.rps));
    section.rows.push(Row::report(
        "1,000 distinct URLs, uncached, requests/s (ours: Redis; peer: in-process)",
        per_second(ours_rps),
        per_second(peer_rps),
        ratio(ours_rps, peer_rps),
    ));
    let (ours_p50, peer_p50) = (
        median_of(&ours, |r| r.p50_ms),
        median_of(&peer, |r| r.p50_ms),
    );
    section.rows.push(Row::report(
        "latency p50 / p99 under load",
        format!("{} / {}", ms(ours_p50), ms(median_of(&ours, |r| r.p99_ms))),
        format!("{} / {}", ms(peer_p50), ms(median_of(&peer, |r| r.p99_ms))),
        ratio(ours_p50, peer_p50),
    ));
    let cpu = |runs: &[WrkRun]| median_of(runs, |r| r.server_cpu_us.unwrap_or(f64::NAN));
    let (ours_cpu, peer_cpu) = (cpu(&ours), cpu(&peer));
    section.rows.push(Row::report(
        "BFF CPU per request (user + system, Redis excluded)",
        us(ours_cpu),
        us(peer_cpu),
        ratio(ours_cpu, peer_cpu),
    ));
    section.notes.extend(problems);
    section.raw = json!({"redis": runs_json(&ours), "in_process": runs_json(&peer)});
    Ok(section)
}
