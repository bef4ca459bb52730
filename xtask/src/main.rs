//! Build, package, demo, test and bench automation: `cargo xtask <command>`.
//!
//! Every command installs what it needs (the wasm32 target, the wasm-bindgen
//! CLI matching the crate's pinned version, Chromium from Debian's packages,
//! npm dependencies from the lockfile) and says what it is doing.
//!
//! # Layout
//! - `process`: running a step, loudly, and failing with its command line.
//! - `tools`: finding or installing each tool the other commands need.
//! - `dist`: the wasm build and the npm package in `pkg/`, with its sizes;
//!   `bindgen_output`: its checked edits of wasm-bindgen's output;
//!   `cli_bundle`: the `conferbot` command line bundled into it;
//!   `server_dist`: the server half (`pkg/server/`, its own wasm).
//! - `wire_schema`: the JS checker and TypeScript written from `conferbot::shape`.
//! - `test`: every test of the project, in order of cost.
//! - `fuzz`: the cargo-fuzz targets of `fuzz/`, built and run from their seeds.
//! - `demo`: the dashboard on the BFF with the embedded sandbox.
//! - `bench`: every benchmark, against peers measured in the same run, into `BENCHMARKS.md`.
//! - `node_tests`, `runtime_tests`: the packed package from Node, then in every
//!   runtime (Bun, Deno, workerd, Chromium, Vite, esbuild) and under tsc.
//! - `wasm_tests`: the wasm-bindgen tests in Node and headless Chromium;
//!   `page_proxy`: the HTTP proxy Chromium loads their pages through.
//! - `e2e_tests`: the dashboard in headless Chromium against the real servers.
// A developer command, not library code: most of its indexing is into
// serde_json `Value`s (which answer `Null`, never panic, for a missing key)
// and into argument lists it has just matched; it unwraps, expects and panics
// nowhere (the workspace lints deny those here too).
#![allow(clippy::indexing_slicing)]

mod bench;
mod bindgen_output;
mod cli_bundle;
mod demo;
mod dist;
mod e2e_tests;
mod fuzz;
mod node_tests;
mod page_proxy;
mod process;
mod runtime_tests;
mod server_dist;
mod test;
mod tools;
mod wasm_tests;
mod wire_schema;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  bench                run the benchmarks and write BENCHMARKS.md and target/bench/results.json
       --quick              fewer samples and shorter load runs (under 2 minutes once built)
  demo                 build the package and run the dashboard on the BFF with the embedded sandbox
  test                 run every test (native, wasm in Node and Chromium, the npm package, the servers)
  dist                 build the npm package into pkg/ and print its sizes
       --compare-opt-levels   also build with opt-level \"s\" and print both sizes
  fuzz                 build every cargo-fuzz target (fuzz/) and run each from its committed seeds
       --seconds N          seconds per target (default 60)
       --total-seconds N    seconds for all targets together, split evenly
       --target NAME        only this target (repeatable)
       --toolchain NAME     default: nightly if installed, else stable with RUSTC_BOOTSTRAP=1
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&workspace_root(), &args[1..]),
        Some("demo") => demo::run(&workspace_root(), &args[1..]),
        Some("test") => test::run(&workspace_root(), &args[1..]),
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("dist") => dist::run(&workspace_root(), &args[1..]).map(|_| ()),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
