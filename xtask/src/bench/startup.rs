//! Section 2, start-up: in Node, the time from importing the client to the
//! first resolved `listChatbots` (a fresh process per sample); in headless
//! Chromium, from navigation to the first rendered row of a minimal page
//! served by the BFF. The peer is the plain-JS client, sampled alternately.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use super::node::{number, run_script};
use super::report::{ms, ratio, Row, Section};
use super::servers::{self, BffOptions, ENTERPRISE_KEY, UNLIMITED_RATE};
use super::stats::median;
use super::Bench;
use crate::tools;

/// Measures section 2.
pub fn measure(bench: &Bench) -> Result<Section> {
    let mut section = Section::new(
        "startup",
        "2. Start-up",
        "Node: a fresh `node` process per sample imports the client and awaits the first `listChatbots({page: 1, limit: 20})` \
         against the sandbox on loopback; the time is measured inside the process from just before `import()` (the \
         whole process, `node` start included, is reported too). Browser: headless Chromium, a fresh context (empty \
         cache) per sample, from navigation start to the first rendered row of `tests/bench/startup.html`, served by \
         the BFF with `--www tests/bench --pkg pkg` in front of the sandbox. Medians; the two clients alternate. \
         Peer: the plain-JS client.",
    );
    let mut raw = serde_json::Map::new();
    match node_startup(bench) {
        Ok((rows, figures)) => {
            section.rows.extend(rows);
            raw.insert("node".into(), figures);
        }
        Err(err) => section.rows.push(Row::report(
            format!("Node start-up: not measured: {err:#}"),
            "—",
            "—",
            None,
        )),
    }
    match browser_startup(bench) {
        Ok((row, figures)) => {
            section.rows.push(row);
            raw.insert("browser".into(), figures);
        }
        Err(err) => section.rows.push(Row::report(
            format!("browser start-up: not measured: {err:#}"),
            "—",
            "—",
            None,
        )),
    }
    section.raw = Value::Object(raw);
    Ok(section)
}

fn node_startup(bench: &Bench) -> Result<(Vec<Row>, Value)> {
    let package = bench.package()?;
    let base_url = bench.sandbox_api()?;
    let samples = bench.settings.node_startup_samples;
    let mut first_call = [Vec::new(), Vec::new()];
    let mut import = [Vec::new(), Vec::new()];
    let mut wall = [Vec::new(), Vec::new()];
    let clients = ["wasm", "plain"];
    for i in 0..samples {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let config = json!({
                "client": clients[which], "wasmEntry": package.node_entry, "baseUrl": base_url, "apiKey": ENTERPRISE_KEY,
            });
            let (result, elapsed) = run_script(bench.root, "startup-node.mjs", &[], &config)?;
            first_call[which].push(number(&result, "firstCallMs")?);
            import[which].push(number(&result, "importMs")?);
            wall[which].push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    let row = |measure: &str, samples: &[Vec<f64>; 2]| {
        let (ours, peer) = (median(&samples[0]), median(&samples[1]));
        Row::report(
            format!("{measure} (median of {})", samples[0].len()),
            ms(ours),
            ms(peer),
            ratio(ours, peer),
        )
    };
    let rows = vec![
        row("Node: import → first `listChatbots` resolved", &first_call),
        row("Node: of which `import()`", &import),
        row("Node: whole process (spawn → exit)", &wall),
    ];
    let figures = json!({
        "first_call_ms": {"wasm": first_call[0], "plain": first_call[1]},
        "import_ms": {"wasm": import[0], "plain": import[1]},
        "process_ms": {"wasm": wall[0], "plain": wall[1]},
    });
    Ok((rows, figures))
}

fn browser_startup(bench: &Bench) -> Result<(Row, Value)> {
    let package = bench.package()?;
    let (chromium, _driver) = tools::ensure_chromium()?;
    let bff = servers::start_bff(
        bench.bff_bin()?,
        bench.sandbox()?,
        &BffOptions {
            name: "bff-startup",
            cache_ttl: Some("0"),
            rate: Some(UNLIMITED_RATE),
            static_dirs: Some((bench.root.join("tests").join("bench"), package.dir.clone())),
        },
        &bench.logs,
    )?;
    let entry_url = format!("/pkg/{}", package.relative(&package.browser_entry));
    servers::expect_ok(
        bff.addr,
        "/startup.html",
        &[],
        "the BFF serving tests/bench",
    )?;
    servers::expect_ok(bff.addr, &entry_url, &[], "the BFF serving pkg/")?;
    let config = json!({
        "chromium": chromium, "origin": bff.origin(), "wasmEntryUrl": entry_url,
        "samples": bench.settings.browser_samples,
    });
    let (result, _) = run_script(bench.root, "startup-browser.mjs", &[], &config)?;
    let samples = |client: &str| -> Vec<f64> {
        result[client]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect()
    };
    let (wasm, plain) = (samples("wasm"), samples("plain"));
    if wasm.is_empty() || plain.is_empty() {
        bail!("the browser script returned no samples: {result}");
    }
    let (ours, peer) = (median(&wasm), median(&plain));
    let row = Row::report(
        format!(
            "browser: navigation → first rendered row (median of {})",
            wasm.len()
        ),
        ms(ours),
        ms(peer),
        ratio(ours, peer),
    );
    Ok((row, json!({"first_row_ms": {"wasm": wasm, "plain": plain}})))
}
