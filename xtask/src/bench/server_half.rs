//! Section 11, the server half in Node: `wrk` against the package's handler
//! (`http.createServer(toNodeListener(h))`, `tests/bench/handler-node.mjs`),
//! against a hand-written Express 5 proxy (`tests/bench/express-proxy.mjs`:
//! fetch and a header copy, no policy) and against the Rust BFF, all three
//! in front of the same sandbox; uncached and cached; the latency each adds
//! over calling the sandbox directly; and the server wasm's size.

use std::fs;
use std::net::SocketAddr;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::json;

use super::http_load::{
    alternate, median_of, note_errors, runs_json, CONNECTIONS, DIRECT_PATH, DISTINCT_PAGES,
    DISTINCT_PREFIX, PROXY_PATH, THREADS,
};
use super::report::{bytes, ms, per_second, ratio, Row, Section};
use super::servers::{self, BffOptions, Server, ENTERPRISE_KEY, UNLIMITED_RATE};
use super::wrk::{self, WrkRun};
use super::Bench;

/// Measures section 15.
pub fn measure(bench: &Bench) -> Result<Section> {
    let settings = &bench.settings;
    let secs = settings.wrk_duration.as_secs();
    let mut section = Section::new(
        "server",
        "15. Server half in Node",
        format!(
            "`wrk -t{THREADS} -c{CONNECTIONS} -d{secs}s --latency` from a second process on loopback against three servers in \
             front of the same sandbox (release build), median of {} alternating round(s): the package's handler \
             (`conferbot-wasm/server`, `http.createServer(toNodeListener(h))` in Node {}), a hand-written Express 5 proxy \
             (`fetch` to the upstream with the key, status, headers and body copied back; no policy, no cache, no \
             window), and the Rust BFF. Uncached: handler `cacheTtlMs: 0`, BFF `--cache-ttl 0` (both still coalesce \
             identical GETs in flight, so the distinct-URL load is the fair one); cached: 2 s; both `rate` \
             {UNLIMITED_RATE}. The Express proxy never caches, so its figure is the same in both rows. Added latency: \
             `wrk -t1 -c1` p50 minus the sandbox called directly. All processes share the machine's cores. Target: \
             the handler ≥ 1.0× the hand-written proxy's requests/s.",
            settings.wrk_rounds,
            node_version()
        ),
    );
    let wrk = wrk::ensure()?;
    let sandbox = bench.sandbox()?;
    let package = bench.package()?;
    let upstream = format!("{}/api/v1", sandbox.origin());
    let node_server = |name: &str, script: &str, config: serde_json::Value| -> Result<Server> {
        let mut cmd = Command::new("node");
        cmd.arg(bench.root.join("tests").join("bench").join(script))
            .arg(config.to_string())
            .env("CONFERBOT_API_KEY", ENTERPRISE_KEY)
            .current_dir(bench.root);
        Server::start_announced(name, cmd, &bench.logs)
    };
    let handler = |name: &str, ttl: u64| {
        node_server(
            name,
            "handler-node.mjs",
            json!({"pkgDir": package.dir, "upstream": upstream, "cacheTtlMs": ttl, "rate": UNLIMITED_RATE}),
        )
    };
    let handler_uncached = handler("handler-uncached", 0)?;
    let handler_cached = handler("handler-cached", 2_000)?;
    let express = node_server(
        "express-proxy",
        "express-proxy.mjs",
        json!({"upstream": upstream}),
    )?;
    let bff = |name, ttl| {
        let options = BffOptions {
            name,
            cache_ttl: Some(ttl),
            rate: Some(UNLIMITED_RATE),
            static_dirs: None,
        };
        servers::start_bff(bench.bff_bin()?, sandbox, &options, &bench.logs)
    };
    let bff_uncached = bff("bff-uncached-s11", "0")?;
    let bff_cached = bff("bff-cached-s11", "2s")?;
    for (server, what) in [
        (&handler_uncached, "the uncached handler"),
        (&handler_cached, "the cached handler"),
        (&express, "the Express proxy"),
        (&bff_uncached, "the uncached BFF"),
        (&bff_cached, "the cached BFF"),
    ] {
        servers::expect_ok(server.addr, PROXY_PATH, &[], what)?;
    }
    let script = bench.work.join("random-pages-s15.lua");
    wrk::write_random_pages_script(&script, DISTINCT_PREFIX, DISTINCT_PAGES)?;
    let heavy = |script| wrk::Load {
        threads: THREADS,
        connections: CONNECTIONS,
        duration: settings.wrk_duration,
        headers: &[],
        script,
    };
    let (one_url, distinct) = (heavy(None), heavy(Some(script.as_path())));
    let load = |addr: SocketAddr, shape: &wrk::Load| {
        wrk::run(&wrk, &format!("http://{addr}{PROXY_PATH}"), shape)
    };

    let mut raw = serde_json::Map::new();
    let mut problems = Vec::new();
    for (label, ours, rust, shape) in [
        (
            "uncached, 1,000 distinct URLs",
            &handler_uncached,
            &bff_uncached,
            &distinct,
        ),
        (
            "uncached, one URL",
            &handler_uncached,
            &bff_uncached,
            &one_url,
        ),
        ("cached, one URL", &handler_cached, &bff_cached, &one_url),
    ] {
        let (handler_runs, express_runs) = alternate(
            settings.wrk_rounds,
            || load(ours.addr, shape),
            || load(express.addr, shape).map(Some),
        )?;
        let (_, bff_runs) = alternate(
            1,
            || load(ours.addr, shape),
            || load(rust.addr, shape).map(Some),
        )?;
        for (who, runs) in [
            ("handler", &handler_runs),
            ("Express proxy", &express_runs),
            ("BFF", &bff_runs),
        ] {
            note_errors(&mut problems, &format!("{who} {label}"), runs);
        }
        let rps = |runs: &[WrkRun]| median_of(runs, |r| r.rps);
        let (h, e, b) = (rps(&handler_runs), rps(&express_runs), rps(&bff_runs));
        section.rows.push(
            Row::report(
                format!("{label}: handler vs hand-written Express proxy, requests/s"),
                per_second(h),
                per_second(e),
                ratio(h, e),
            )
            .target("≥ 1.0×", h >= e),
        );
        section.rows.push(Row::report(
            format!("{label}: handler vs Rust BFF, requests/s"),
            per_second(h),
            per_second(b),
            ratio(h, b),
        ));
        let p = |runs: &[WrkRun]| (median_of(runs, |r| r.p50_ms), median_of(runs, |r| r.p99_ms));
        let ((h50, h99), (e50, e99)) = (p(&handler_runs), p(&express_runs));
        section.rows.push(Row::report(
            format!("{label}: latency p50 / p99 under load, handler vs Express proxy"),
            format!("{} / {}", ms(h50), ms(h99)),
            format!("{} / {}", ms(e50), ms(e99)),
            ratio(h50, e50),
        ));
        raw.insert(label.into(), json!({"handler": runs_json(&handler_runs), "express": runs_json(&express_runs), "bff": runs_json(&bff_runs)}));
    }

    let single = |server: &Server, path: &str, headers: &[(&str, &str)]| {
        let shape = wrk::Load {
            threads: 1,
            connections: 1,
            duration: settings.wrk_duration,
            headers,
            script: None,
        };
        wrk::run(&wrk, &format!("http://{}{path}", server.addr), &shape)
    };
    let key = [("x-api-key", ENTERPRISE_KEY)];
    let (direct, _) = alternate(1, || single(sandbox, DIRECT_PATH, &key), || Ok(None))?;
    let direct_p50 = median_of(&direct, |r| r.p50_ms);
    let mut added = serde_json::Map::new();
    for (who, server) in [
        ("handler", &handler_uncached),
        ("Express proxy", &express),
        ("Rust BFF", &bff_uncached),
    ] {
        let runs = vec![single(server, PROXY_PATH, &[])?];
        note_errors(&mut problems, &format!("{who}, 1 connection"), &runs);
        let p50 = median_of(&runs, |r| r.p50_ms);
        section.rows.push(Row::report(
            format!(
                "p50 latency at 1 connection, {who} (uncached) vs sandbox direct: adds {}",
                ms(p50 - direct_p50)
            ),
            ms(p50),
            format!("{} (sandbox direct)", ms(direct_p50)),
            ratio(p50, direct_p50),
        ));
        added.insert(
            who.into(),
            json!({"runs": runs_json(&runs), "added_p50_ms": p50 - direct_p50}),
        );
    }
    raw.insert(
        "one_connection".into(),
        json!({"direct": runs_json(&direct), "servers": added}),
    );

    let wasm = package.dir.join("server").join("conferbot_server_bg.wasm");
    let size = fs::metadata(&wasm)
        .with_context(|| format!("reading {}", wasm.display()))?
        .len();
    let client = fs::metadata(package.dir.join("conferbot_bg.wasm"))?.len();
    section.rows.push(
        Row::report(
            "server wasm (pkg/server/conferbot_server_bg.wasm, raw) vs the client's wasm"
                .to_owned(),
            bytes(size),
            bytes(client),
            ratio(size as f64, client as f64),
        )
        .target(
            format!(
                "≤ {} (budget)",
                bytes(crate::server_dist::WASM_BUDGET_BYTES)
            ),
            size <= crate::server_dist::WASM_BUDGET_BYTES,
        ),
    );
    raw.insert("server_wasm_bytes".into(), json!(size));
    section.notes.extend(problems);
    section.raw = serde_json::Value::Object(raw);
    Ok(section)
}

fn node_version() -> String {
    crate::process::output(Command::new("node").arg("--version"))
        .map_or_else(|| "?".to_owned(), |v| v.trim().to_owned())
}
