//! Section 3, client overhead per call: `listChatbots({limit: 100})` over
//! loopback against the sandbox, the wasm client and the plain-JS client
//! alternating in one Node process; the same against a static 100-item page
//! (a separate Node process answering every request with it at once), beside
//! the bare minimum (`fetch` + `JSON.parse` + the same checks); and the
//! decode cost of a 100-item page without the network, through a `fetch` stub.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use super::node::run_script;
use super::report::{ms, per_second, ratio, us, Row, Section};
use super::servers::ENTERPRISE_KEY;
use super::stats::{median, percentile};
use super::Bench;

/// Target: at most this many times the plain-JS client's time per call.
const TARGET_RATIO: f64 = 1.2;
/// Target against the bare minimum on a static page: at most this many times its time.
const BARE_TARGET_RATIO: f64 = 1.1;

/// Measures section 3.
pub fn measure(bench: &Bench) -> Result<Section> {
    let package = bench.package()?;
    let base_url = bench.sandbox_api()?;
    let settings = &bench.settings;
    let mut section = Section::new(
        "overhead",
        "3. Client overhead per call",
        "Node, loopback, sandbox with `--rate 1000000/1s`: `listChatbots({limit: 100})` one call at a time, the \
         wasm client and the plain-JS client in the same process against the same server, alternating in rounds \
         after a warm-up. Then the same call with `globalThis.fetch` replaced by a stub answering a prebuilt \
         `Response` (a real 100-item page): request building, body reading, decoding and checks, no network. \
         Target: ≤ 1.2× the plain-JS client per call. Then against a static page: the same body served by a \
         separate Node process (`node:http`, keep-alive) that answers every request with it at once, so that the \
         server's work is as small as it gets; three clients alternate: ours, the plain-JS client, and the bare \
         minimum (`fetch` + `JSON.parse` + the same field checks, no timeout, no retries, no error typing). \
         Target: ≤ 1.1× the bare minimum per call.",
    );
    let config = json!({
        "wasmEntry": package.node_entry, "baseUrl": base_url, "apiKey": ENTERPRISE_KEY,
        "rounds": settings.overhead_rounds, "calls": settings.calls_per_round,
    });
    let (network, _) = run_script(bench.root, "overhead.mjs", &[], &config)?;
    let times = |client: &str| -> Vec<f64> {
        network[client]["ms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect()
    };
    let (wasm, plain) = (times("wasm"), times("plain"));
    if wasm.is_empty() || plain.is_empty() {
        bail!("overhead.mjs returned no samples");
    }
    let rate = |client: &str, count: usize| {
        count as f64 / (network[client]["totalMs"].as_f64().unwrap_or(f64::NAN) / 1000.0)
    };
    let (wasm_rate, plain_rate) = (rate("wasm", wasm.len()), rate("plain", plain.len()));
    let calls = wasm.len();
    section.rows.push(
        Row::report(
            format!("calls/s, sequential ({calls} calls each)"),
            per_second(wasm_rate),
            per_second(plain_rate),
            ratio(wasm_rate, plain_rate),
        )
        .target(
            format!("≥ {:.2}× (≤ 1.2× time)", 1.0 / TARGET_RATIO),
            wasm_rate * TARGET_RATIO >= plain_rate,
        ),
    );
    for p in [50.0, 99.0] {
        let (ours, peer) = (percentile(&wasm, p), percentile(&plain, p));
        let row = Row::report(
            format!("p{p:.0} per call"),
            ms(ours),
            ms(peer),
            ratio(ours, peer),
        );
        section.rows.push(if p == 50.0 {
            row.target("≤ 1.2×", ours <= peer * TARGET_RATIO)
        } else {
            row
        });
    }

    let static_config = json!({
        "wasmEntry": package.node_entry, "baseUrl": base_url, "apiKey": ENTERPRISE_KEY,
        "rounds": settings.overhead_rounds, "calls": settings.calls_per_round,
    });
    let (on_static, _) = run_script(bench.root, "static-page.mjs", &[], &static_config)?;
    let static_times = |client: &str| -> Vec<f64> {
        on_static[client]["ms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect()
    };
    let (static_wasm, static_bare, static_plain) = (
        static_times("wasm"),
        static_times("bare"),
        static_times("plain"),
    );
    if static_wasm.is_empty() || static_bare.is_empty() || static_plain.is_empty() {
        bail!("static-page.mjs returned no samples");
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for (what, o, b) in [
        (
            "p50",
            percentile(&static_wasm, 50.0),
            percentile(&static_bare, 50.0),
        ),
        ("mean", mean(&static_wasm), mean(&static_bare)),
    ] {
        section.rows.push(
            Row::report(
                format!("static 100-item page, {what} per call, vs bare `fetch` + `JSON.parse` + checks ({} calls each)", static_wasm.len()),
                ms(o),
                ms(b),
                ratio(o, b),
            )
            .target("≤ 1.1×", o <= b * BARE_TARGET_RATIO),
        );
    }
    section.rows.push(Row::report(
        "static 100-item page, p50 per call, vs the plain-JS client",
        ms(percentile(&static_wasm, 50.0)),
        ms(percentile(&static_plain, 50.0)),
        ratio(
            percentile(&static_wasm, 50.0),
            percentile(&static_plain, 50.0),
        ),
    ));

    let decode_config = json!({
        "wasmEntry": package.node_entry, "baseUrl": base_url, "apiKey": ENTERPRISE_KEY,
        "rounds": settings.overhead_rounds * 2, "calls": settings.decode_calls_per_round,
    });
    let (decode, _) = run_script(bench.root, "decode.mjs", &[], &decode_config)?;
    let per_call = |name: &str| {
        median(
            &decode[name]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect::<Vec<_>>(),
        )
    };
    let (ours, peer, stub, parse) = (
        per_call("wasm"),
        per_call("plain"),
        per_call("stub"),
        per_call("jsonParse"),
    );
    section.rows.push(
        Row::report(
            "decode a 100-item page via a `fetch` stub, per call (median of rounds)",
            us(ours),
            us(peer),
            ratio(ours, peer),
        )
        .target("≤ 1.2×", ours <= peer * TARGET_RATIO),
    );
    section.rows.push(Row::report(
        "…of which the stub itself (`new Response` + `text()`)",
        us(stub),
        us(stub),
        Some(1.0),
    ));
    section.rows.push(Row::report(
        "…minus the stub: the client's own work per call",
        us(ours - stub),
        us(peer - stub),
        ratio(ours - stub, peer - stub),
    ));
    section.rows.push(Row::report(
        "reference: `JSON.parse` + field checks only",
        "—",
        us(parse),
        None,
    ));
    let exported = decode["exported"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    section.notes.push(format!(
        "The page body is {} bytes. Pure decode functions exported by the package: {}.",
        decode["bodyBytes"],
        if exported.is_empty() {
            "none, hence the fetch stub"
        } else {
            exported.as_str()
        }
    ));
    section.raw = json!({
        "network": {
            "wasm": {"calls": wasm.len(), "calls_per_s": wasm_rate, "p50_ms": percentile(&wasm, 50.0), "p99_ms": percentile(&wasm, 99.0)},
            "plain": {"calls": plain.len(), "calls_per_s": plain_rate, "p50_ms": percentile(&plain, 50.0), "p99_ms": percentile(&plain, 99.0)},
        },
        "decode_us_per_call": {"wasm": decode["wasm"], "plain": decode["plain"], "stub": decode["stub"], "json_parse": decode["jsonParse"]},
        "static_page": {
            "wasm": {"p50_ms": percentile(&static_wasm, 50.0), "mean_ms": mean(&static_wasm)},
            "bare": {"p50_ms": percentile(&static_bare, 50.0), "mean_ms": mean(&static_bare)},
            "plain": {"p50_ms": percentile(&static_plain, 50.0), "mean_ms": mean(&static_plain)},
        },
    });
    Ok(section)
}
