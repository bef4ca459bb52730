//! Section 4, auto-pagination: the time and the memory to iterate the
//! sandbox's 10,000 chatbots with `chatbots({limit: 100})`, against the
//! plain-JS client's loop; memory must stay flat, one page at a time.

use anyhow::Result;
use serde_json::json;

use super::node::{number, run_script};
use super::report::{ms, ratio, Row, Section};
use super::servers::ENTERPRISE_KEY;
use super::stats::median;
use super::{Bench, SANDBOX_CHATBOTS};

/// Flat: the post-GC heap may grow, per item seen, by at most this share of
/// what keeping an item costs.
const FLAT_SHARE: f64 = 0.1;

/// Measures section 4.
pub fn measure(bench: &Bench) -> Result<Section> {
    let package = bench.package()?;
    let base_url = bench.sandbox_api()?;
    let mut section = Section::new(
        "pagination",
        "4. Auto-pagination",
        format!(
            "Node, `node --expose-gc`, a fresh process per run: `for await (const bot of client.chatbots({{limit: 100}}))` \
             over the sandbox's {SANDBOX_CHATBOTS} chatbots (100 pages, loopback). Time and the high-water mark of \
             `heapUsed`, `external` (where the wasm memory lives) and RSS above the level before the loop (sampled \
             every 10 items); then a second run forcing a GC every 5 pages: the post-GC `heapUsed + external` must not grow with \
             the items seen. Its growth is the least-squares slope over the second half of the run (the first \
             half includes JIT warm-up), per 1,000 items; flat = under 10% of what keeping 1,000 chatbots costs \
             (measured in the same process). Peer: the plain-JS client's \
             `chatbots()`, an async generator over `listChatbots` pages."
        ),
    );
    let run = |client: &str, mode: &str| {
        let config = json!({
            "client": client, "wasmEntry": package.node_entry, "baseUrl": base_url, "apiKey": ENTERPRISE_KEY,
            "limit": 100, "expected": SANDBOX_CHATBOTS, "mode": mode,
        });
        run_script(bench.root, "pagination.mjs", &["--expose-gc"], &config).map(|(value, _)| value)
    };
    let mut timed = [Vec::new(), Vec::new()];
    for i in 0..bench.settings.pagination_runs {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            timed[which].push(run(["wasm", "plain"][which], "time")?);
        }
    }
    let figure = |which: usize, field: &str| -> Result<f64> {
        Ok(median(
            &timed[which]
                .iter()
                .map(|v| number(v, field))
                .collect::<Result<Vec<_>>>()?,
        ))
    };
    let runs = timed[0].len();
    let (ours, peer) = (figure(0, "ms")?, figure(1, "ms")?);
    section.rows.push(Row::report(
        format!("time for {SANDBOX_CHATBOTS} chatbots (median of {runs})"),
        ms(ours),
        ms(peer),
        ratio(ours, peer),
    ));
    let (ours, peer) = (figure(0, "heapPeakDelta")?, figure(1, "heapPeakDelta")?);
    section.rows.push(Row::report(
        "peak heapUsed above start",
        mib(ours),
        mib(peer),
        ratio(ours, peer),
    ));
    let (ours, peer) = (
        figure(0, "externalPeakDelta")?,
        figure(1, "externalPeakDelta")?,
    );
    section.rows.push(Row::report(
        "peak `external` above start",
        mib(ours),
        mib(peer),
        ratio(ours, peer),
    ));
    let (ours, peer) = (figure(0, "rssPeakDelta")?, figure(1, "rssPeakDelta")?);
    section.rows.push(Row::report(
        "peak RSS above start",
        mib(ours),
        mib(peer),
        ratio(ours, peer),
    ));

    let retained = [run("wasm", "retain")?, run("plain", "retain")?];
    let (ours, peer) = (
        number(&retained[0], "growthPer1000")?,
        number(&retained[1], "growthPer1000")?,
    );
    let keeping = number(&retained[0], "keeping1000")?;
    let kib = |bytes: f64| format!("{:.1} KiB", bytes / 1024.0);
    section.rows.push(
        Row::report(
            format!(
                "post-GC heap growth per 1,000 items, 2nd half (keeping 1,000 chatbots costs {})",
                kib(keeping)
            ),
            kib(ours),
            kib(peer),
            ratio(ours, peer),
        )
        .target(
            format!("flat (< {})", kib(keeping * FLAT_SHARE)),
            ours < keeping * FLAT_SHARE,
        ),
    );
    section.raw = json!({ "timed": {"wasm": timed[0], "plain": timed[1]}, "retain": {"wasm": retained[0], "plain": retained[1]} });
    Ok(section)
}

fn mib(bytes: f64) -> String {
    format!("{:.2} MiB", bytes / 1024.0 / 1024.0)
}
