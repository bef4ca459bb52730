//! Section 6, quota saved: 500 simulated dashboard loads (chatbots page 1,
//! usage, webhooks) from 50 concurrent clients within one cache window,
//! counting the upstream calls they cost through the BFF (its defaults)
//! and through nginx without cache.

use anyhow::Result;
use serde_json::{json, Value};

use super::nginx;
use super::node::{number, run_script};
use super::report::{ratio, Row, Section};
use super::servers::{self, BffOptions};
use super::Bench;

/// Concurrent simulated dashboards.
const CONCURRENCY: usize = 50;
/// Target: upstream calls for all the loads.
const TARGET_CALLS: f64 = 3.0;

/// Measures section 6.
pub fn measure(bench: &Bench) -> Result<Section> {
    let loads = bench.settings.quota_loads;
    let mut section = Section::new(
        "quota",
        "6. Quota saved",
        format!(
            "{loads} simulated dashboard loads (each: chatbots page 1, usage, webhooks, at once) from {CONCURRENCY} \
             concurrent Node clients, i.e. {} requests, within one cache window. Upstream calls counted by the \
             sandbox (`GET /sandbox/stats` → `apiCalls`, after minus before). Ours: a fresh BFF with its default \
             cache TTL, limiter and coalescing. Peer: nginx as a plain reverse proxy without cache. \
             Target: ≤ 3 upstream calls.",
            loads * 3
        ),
    );
    let sandbox = bench.sandbox()?;
    let stats_url = format!("{}/sandbox/stats", sandbox.origin());
    let options = BffOptions {
        name: "bff-quota",
        cache_ttl: None,
        rate: None,
        static_dirs: None,
    };
    let bff = servers::start_bff(bench.bff_bin()?, sandbox, &options, &bench.logs)?;
    let run = |proxy_origin: String| {
        let config = json!({
            "proxyBase": format!("{proxy_origin}/api/conferbot"), "statsUrl": stats_url,
            "loads": loads, "concurrency": CONCURRENCY,
        });
        run_script(bench.root, "quota.mjs", &[], &config).map(|(value, _)| value)
    };
    let ours = run(bff.origin())?;
    drop(bff);
    let peer: Result<Value> = nginx::ensure()
        .and_then(|bin| {
            nginx::start(
                &bin,
                &bench.work,
                &bench.logs,
                "nginx-quota",
                sandbox.addr,
                None,
            )
        })
        .and_then(|n| run(format!("http://{}", n.uncached)));

    let ours_calls = number(&ours, "upstreamCalls")?;
    let (peer_text, peer_calls) = match &peer {
        Ok(value) => {
            let calls = number(value, "upstreamCalls")?;
            (format!("{calls:.0}"), Some(calls))
        }
        Err(err) => (format!("not measured: {err:#}"), None),
    };
    section.rows.push(
        Row::report(
            format!("upstream calls for {} requests", loads * 3),
            format!("{ours_calls:.0}"),
            peer_text,
            peer_calls.and_then(|p| ratio(ours_calls, p)),
        )
        .target("≤ 3", ours_calls <= TARGET_CALLS),
    );
    let elapsed = |v: &Value| {
        number(v, "elapsedMs")
            .map(|ms| format!("{ms:.0} ms"))
            .unwrap_or_else(|_| "—".into())
    };
    section.rows.push(Row::report(
        "time for all loads",
        elapsed(&ours),
        peer.as_ref().map(elapsed).unwrap_or_else(|_| "—".into()),
        None,
    ));
    section.notes.push(format!(
        "Answers through the BFF by status: {}; by `x-cache`: {}.",
        ours["statuses"], ours["cache"]
    ));
    if let Ok(value) = &peer {
        section.notes.push(format!(
            "Answers through nginx by status: {}.",
            value["statuses"]
        ));
    }
    section.raw = json!({"bff": ours, "nginx": peer.as_ref().ok()});
    Ok(section)
}
