//! Section 5, BFF throughput and latency: `wrk` on loopback against the BFF
//! and against nginx proxying the same sandbox, uncached and cached, to a
//! plain-HTTP sandbox and to an HTTPS one (the production path: the BFF's one
//! transport with rustls, nginx with OpenSSL, both verifying the sandbox's
//! generated CA); and the latency the BFF adds over calling the sandbox directly.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Result;
use serde_json::json;

use super::nginx::{self, Nginx};
use super::report::{ms, per_second, ratio, us, Row, Section};
use super::servers::{self, BffOptions, Server, ENTERPRISE_KEY, UNLIMITED_RATE};
use super::stats::median;
use super::wrk::{self, WrkRun};
use super::Bench;

/// The path every proxy answers (the BFF's public path; nginx maps it the same way).
pub const PROXY_PATH: &str = "/api/conferbot/external/v1/chatbots?page=1&limit=20";
/// The same resource on the sandbox itself.
pub const DIRECT_PATH: &str = "/api/v1/external/v1/chatbots?page=1&limit=20";
/// Distinct URLs of the uncached load where coalescing seldom applies:
/// `limit=10&page=N`, N in 1..=1,000 (the sandbox holds 10,000 chatbots).
pub const DISTINCT_PREFIX: &str = "/api/conferbot/external/v1/chatbots?limit=10&page=";
pub const DISTINCT_PAGES: u32 = 1_000;
/// Throughput load: wrk threads (one per core of the 2-core machine) and
/// keep-alive connections (32 per thread).
pub const THREADS: usize = 2;
pub const CONNECTIONS: usize = 64;
/// Target: added p50 latency at one connection, ms.
const ADDED_P50_MS: f64 = 0.3;
/// Targets against nginx (issue 13 §5): requests/s uncached and cached.
const UNCACHED_TARGET: f64 = 1.0;
const CACHED_TARGET: f64 = 1.2;

/// One upstream (the plain or the TLS sandbox) and the proxies in front of it.
struct Proxies<'a> {
    /// `HTTP` or `HTTPS`, for the row labels.
    scheme: &'static str,
    upstream: &'a Server,
    bff_uncached: Server,
    bff_cached: Server,
    nginx: Result<Nginx>,
}

impl<'a> Proxies<'a> {
    /// BFFs (uncached, cached) and nginx in front of `upstream`, trusting `ca`
    /// for an HTTPS one; each checked to answer 200.
    fn start(bench: &Bench, upstream: &'a Server, ca: Option<&Path>) -> Result<Self> {
        let scheme = if ca.is_some() { "HTTPS" } else { "HTTP" };
        let tag = scheme.to_ascii_lowercase();
        let bff_bin = bench.bff_bin()?;
        let start = |kind: &str, ttl| {
            let name = format!("bff-{kind}-{tag}");
            let options = BffOptions {
                name: &name,
                cache_ttl: Some(ttl),
                rate: Some(UNLIMITED_RATE),
                static_dirs: None,
            };
            let mut cmd = servers::bff_command(bff_bin, upstream, &options);
            if let Some(ca) = ca {
                cmd.arg("--upstream-ca").arg(ca);
            }
            Server::start_announced(&name, cmd, &bench.logs)
        };
        let bff_uncached = start("uncached", "0")?;
        let bff_cached = start("cached", "2s")?;
        let name = format!("nginx-{tag}");
        let nginx = nginx::ensure()
            .and_then(|bin| nginx::start(&bin, &bench.work, &bench.logs, &name, upstream.addr, ca));
        servers::expect_ok(bff_uncached.addr, PROXY_PATH, &[], "the uncached BFF")?;
        servers::expect_ok(bff_cached.addr, PROXY_PATH, &[], "the cached BFF")?;
        if let Ok(n) = &nginx {
            servers::expect_ok(n.uncached, PROXY_PATH, &[], "nginx")?;
            servers::expect_ok(n.cached, PROXY_PATH, &[], "nginx with proxy_cache")?;
        }
        Ok(Self {
            scheme,
            upstream,
            bff_uncached,
            bff_cached,
            nginx,
        })
    }
}

/// Measures section 5.
pub fn measure(bench: &Bench) -> Result<Section> {
    let settings = &bench.settings;
    let secs = settings.wrk_duration.as_secs();
    let mut section = Section::new(
        "http",
        "5. BFF throughput and latency",
        format!(
            "`wrk -t{THREADS} -c{CONNECTIONS} -d{secs}s --latency` from a second process on loopback, `GET {PROXY_PATH}`; \
             median of {} round(s) alternating which server is loaded first (BFF then nginx, nginx then BFF, …). \
             Why {THREADS} threads and {CONNECTIONS} connections: one wrk thread per core of this machine (more only \
             time-slice), and 32 keep-alive connections per thread, so that neither server ever waits for a \
             request: wrk, the proxy and the sandbox share the cores, and both proxies are CPU-bound, not \
             connection-bound, at this load; the same shape for both. \
             Uncached: BFF `--cache-ttl 0 --rate {UNLIMITED_RATE}` versus nginx as a \
             plain reverse proxy (2 workers, keep-alive upstream, adds `x-api-key`). Cached: BFF `--cache-ttl 2s` versus \
             nginx with `proxy_cache` valid 2 s (`proxy_cache_lock on`). Both forward to the same sandbox (release \
             builds), once over plain HTTP and once over HTTPS: `conferbot-sandbox --tls` (a CA and certificate \
             generated at start), the BFF with `--upstream-ca` (its one hyper + rustls transport, the production \
             path), nginx with `proxy_ssl_verify on`, the same CA and TLS session reuse. Clients reach both proxies over plain HTTP. \
             Neither writes an access log: the BFF runs with `RUST_LOG=warn` (its default `info` writes one line \
             per request, from a thread of its own), nginx with `access_log off`. \
             With `--cache-ttl 0` the BFF still coalesces identical concurrent GETs, which one URL under \
             {CONNECTIONS} connections favours; so the uncached load is also run over {DISTINCT_PAGES} distinct \
             URLs (`limit=10&page=N`, N drawn at random per request by a wrk Lua script), where a request finds \
             its twin in flight at most {CONNECTIONS} times in {DISTINCT_PAGES}. Server CPU per request: user + system time from `/proc/PID/stat` (nginx: master and workers) over the \
             run, divided by the requests; steadier than requests/s on a shared machine, and it excludes the \
             sandbox. Its user-space part is given apart: the proxy's own work, where the system part is the \
             kernel's, mostly its sockets. Added latency: `wrk -t1 -c1` p50 of the \
             uncached BFF minus the sandbox called directly (over HTTPS: wrk's own TLS to the sandbox). All processes share the machine's cores. \
             Targets: ≥ {UNCACHED_TARGET:.1}× nginx's requests/s uncached, ≥ {CACHED_TARGET:.1}× cached; ≤ {ADDED_P50_MS} ms added at p50.",
            settings.wrk_rounds
        ),
    );
    let wrk = wrk::ensure()?;
    let plain = Proxies::start(bench, bench.sandbox()?, None)?;
    let ca = bench.work.join("sandbox-tls-ca.pem");
    let tls_sandbox = servers::start_sandbox_tls(
        bench.sandbox_bin()?,
        super::SANDBOX_CHATBOTS,
        &bench.logs,
        &ca,
    );
    let tls = tls_sandbox
        .as_ref()
        .map_err(|err| anyhow::anyhow!("{err:#}"))
        .and_then(|sandbox| Proxies::start(bench, sandbox, Some(&ca)));
    let script = bench.work.join("random-pages.lua");
    wrk::write_random_pages_script(&script, DISTINCT_PREFIX, DISTINCT_PAGES)?;

    let mut raw = serde_json::Map::new();
    let mut problems = Vec::new();
    let mut upstreams = vec![&plain];
    match &tls {
        Ok(tls) => upstreams.push(tls),
        Err(err) => problems.push(format!("HTTPS upstream not measured: {err:#}")),
    }
    for proxies in &upstreams {
        throughput(
            bench,
            &wrk,
            proxies,
            &script,
            &mut section,
            &mut raw,
            &mut problems,
        )?;
    }
    for proxies in &upstreams {
        added_latency(bench, &wrk, proxies, &mut section, &mut raw, &mut problems)?;
    }
    section.notes.extend(problems);
    section.raw = serde_json::Value::Object(raw);
    Ok(section)
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// The three throughput loads against one upstream's proxies.
fn throughput(
    bench: &Bench,
    wrk: &Path,
    proxies: &Proxies,
    script: &Path,
    section: &mut Section,
    raw: &mut serde_json::Map<String, serde_json::Value>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let heavy = |script| wrk::Load {
        threads: THREADS,
        connections: CONNECTIONS,
        duration: bench.settings.wrk_duration,
        headers: &[],
        script,
    };
    let (one_url, distinct) = (heavy(None), heavy(Some(script)));
    let nginx = &proxies.nginx;
    let nginx_uncached = nginx.as_ref().ok().map(|n| (n.uncached, n.server.pid()));
    let nginx_cached = nginx.as_ref().ok().map(|n| (n.cached, n.server.pid()));
    for (shape_label, bff, peer_addr, shape, target) in [
        (
            "uncached, one URL",
            &proxies.bff_uncached,
            nginx_uncached,
            &one_url,
            UNCACHED_TARGET,
        ),
        (
            "uncached, 1,000 distinct URLs",
            &proxies.bff_uncached,
            nginx_uncached,
            &distinct,
            UNCACHED_TARGET,
        ),
        (
            "cached, one URL",
            &proxies.bff_cached,
            nginx_cached,
            &one_url,
            CACHED_TARGET,
        ),
    ] {
        let label = format!("{} upstream, {shape_label}", proxies.scheme);
        let load = |(addr, pid): (SocketAddr, u32)| {
            let before = servers::cpu_time(pid)?;
            let mut run = wrk::run(wrk, &url(addr, PROXY_PATH), shape)?;
            let spent = servers::cpu_time(pid)? - before;
            let per_request = |seconds: f64| seconds * 1e6 / run.requests as f64;
            run.server_cpu_us = (run.requests > 0).then(|| per_request(spent.total()));
            run.server_user_us = (run.requests > 0).then(|| per_request(spent.user));
            Ok(run)
        };
        let (ours, peer) = alternate(
            bench.settings.wrk_rounds,
            || load((bff.addr, bff.pid())),
            || peer_addr.map(load).transpose(),
        )?;
        note_errors(problems, &format!("BFF {label}"), &ours);
        note_errors(problems, &format!("nginx {label}"), &peer);
        let (ours_rps, peer_rps) = (median_of(&ours, |r| r.rps), median_of(&peer, |r| r.rps));
        let peer_text = |text: String| {
            if peer.is_empty() {
                not_measured(nginx)
            } else {
                text
            }
        };
        section.rows.push(
            Row::report(
                format!("{label} GET, requests/s"),
                per_second(ours_rps),
                peer_text(per_second(peer_rps)),
                ratio(ours_rps, peer_rps),
            )
            .target(
                format!("≥ {target:.1}×"),
                !peer.is_empty() && ours_rps >= target * peer_rps,
            ),
        );
        let (ours_p50, peer_p50) = (
            median_of(&ours, |r| r.p50_ms),
            median_of(&peer, |r| r.p50_ms),
        );
        section.rows.push(Row::report(
            format!("{label} GET, latency p50 / p99 under load"),
            format!("{} / {}", ms(ours_p50), ms(median_of(&ours, |r| r.p99_ms))),
            peer_text(format!(
                "{} / {}",
                ms(peer_p50),
                ms(median_of(&peer, |r| r.p99_ms))
            )),
            ratio(ours_p50, peer_p50),
        ));
        let cpu_rows: [(&str, CpuFigure); 2] = [
            ("server CPU per request (user + system)", |r| {
                r.server_cpu_us
            }),
            ("of which user space", |r| r.server_user_us),
        ];
        for (measure, figure) in cpu_rows {
            let cpu = |runs: &[WrkRun]| median_of(runs, |r| figure(r).unwrap_or(f64::NAN));
            let (ours_cpu, peer_cpu) = (cpu(&ours), cpu(&peer));
            section.rows.push(Row::report(
                format!("{label} GET, {measure}"),
                us(ours_cpu),
                peer_text(us(peer_cpu)),
                ratio(ours_cpu, peer_cpu),
            ));
        }
        raw.insert(
            label,
            json!({"bff": runs_json(&ours), "nginx": runs_json(&peer)}),
        );
    }
    if let Err(err) = nginx {
        problems.push(format!("nginx ({}) not measured: {err:#}", proxies.scheme));
    }
    Ok(())
}

/// One of a run's CPU figures per request (all of it, or its user-space part).
type CpuFigure = fn(&WrkRun) -> Option<f64>;

/// p50 at one connection: the uncached BFF versus the sandbox called directly.
fn added_latency(
    bench: &Bench,
    wrk: &Path,
    proxies: &Proxies,
    section: &mut Section,
    raw: &mut serde_json::Map<String, serde_json::Value>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let key = [("x-api-key", ENTERPRISE_KEY)];
    let single = |target: String, headers: &[(&str, &str)]| {
        let shape = wrk::Load {
            threads: 1,
            connections: 1,
            duration: bench.settings.wrk_duration,
            headers,
            script: None,
        };
        wrk::run(wrk, &target, &shape)
    };
    let direct_url = format!("{}{DIRECT_PATH}", proxies.upstream.origin());
    let (ours, direct) = alternate(
        bench.settings.wrk_rounds,
        || single(url(proxies.bff_uncached.addr, PROXY_PATH), &[]),
        || single(direct_url.clone(), &key).map(Some),
    )?;
    let scheme = proxies.scheme;
    note_errors(
        problems,
        &format!("BFF, {scheme} upstream, 1 connection"),
        &ours,
    );
    note_errors(
        problems,
        &format!("sandbox direct over {scheme}, 1 connection"),
        &direct,
    );
    let (ours_p50, direct_p50) = (
        median_of(&ours, |r| r.p50_ms),
        median_of(&direct, |r| r.p50_ms),
    );
    let added = ours_p50 - direct_p50;
    section.rows.push(
        Row::report(
            format!(
                "{scheme} upstream, p50 latency at 1 connection, BFF uncached vs sandbox direct: adds {}",
                ms(added)
            ),
            ms(ours_p50),
            format!("{} (sandbox direct)", ms(direct_p50)),
            ratio(ours_p50, direct_p50),
        )
        .target(format!("≤ +{ADDED_P50_MS} ms"), added <= ADDED_P50_MS),
    );
    raw.insert(
        format!("one_connection_{}", scheme.to_ascii_lowercase()),
        json!({"bff": runs_json(&ours), "direct": runs_json(&direct), "added_p50_ms": added}),
    );
    Ok(())
}

/// Runs `ours` and `peer` alternately for `rounds` rounds (the peer may be absent).
pub fn alternate(
    rounds: usize,
    mut ours: impl FnMut() -> Result<WrkRun>,
    mut peer: impl FnMut() -> Result<Option<WrkRun>>,
) -> Result<(Vec<WrkRun>, Vec<WrkRun>)> {
    let (mut ours_runs, mut peer_runs) = (Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        if round % 2 == 0 {
            ours_runs.push(ours()?);
            peer_runs.extend(peer()?);
        } else {
            peer_runs.extend(peer()?);
            ours_runs.push(ours()?);
        }
    }
    Ok((ours_runs, peer_runs))
}

pub fn median_of(runs: &[WrkRun], field: impl Fn(&WrkRun) -> f64) -> f64 {
    median(&runs.iter().map(field).collect::<Vec<_>>())
}

pub fn runs_json(runs: &[WrkRun]) -> serde_json::Value {
    runs.iter().map(|r| r.to_json()).collect()
}

pub fn note_errors(problems: &mut Vec<String>, what: &str, runs: &[WrkRun]) {
    let (non_2xx, socket): (u64, u64) = runs.iter().fold((0, 0), |acc, r| {
        (acc.0 + r.non_2xx, acc.1 + r.socket_errors)
    });
    if non_2xx + socket > 0 {
        problems.push(format!(
            "{what}: {non_2xx} non-2xx answers and {socket} socket errors during the load."
        ));
    }
}

fn not_measured(nginx: &Result<Nginx>) -> String {
    match nginx {
        Ok(_) => "—".into(),
        Err(err) => format!("not measured: {}", format!("{err:#}").replace('|', "/")),
    }
}
