//! `cargo xtask test`: every test of the project, cheapest first, so a
//! failure shows up as early as it can.
//!
//! 1. formatting and clippy (native; the core and the policy for wasm32; the
//!    BFF without its embedded sandbox);
//! 2. native tests of the whole workspace: the core, the sandbox and the BFF
//!    over real HTTP on 127.0.0.1; then the attacks of issue 12 against the
//!    release BFF (`crates/attacks`), one at a time;
//! 3. the npm package (`dist`), then wasm-bindgen-test in Node and Chromium;
//! 4. the built package from Node scripts against the sandbox, the BFF and
//!    the package's own handler (with its parity to the BFF and a mixed
//!    fleet on Redis);
//! 5. the packed package in every runtime (Node ESM/CJS, Bun, Deno, workerd,
//!    Chromium, Vite, esbuild), its server half in every framework, and
//!    under tsc in every consumer setup;
//! 6. the dashboard in headless Chromium, with the key-leak audit, on the
//!    BFF and again on the handler;
//! 7. the fuzz targets (`fuzz/`), 30 s in all, split between them (last: its
//!    build alone takes a minute or two).

use std::path::Path;

use anyhow::Result;

use crate::process::{self, say};
use crate::tools::{self, cargo, WASM_TARGET};

/// Runs every test; fails on the first failing step.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    if let Some(unknown) = args.first() {
        anyhow::bail!("`cargo xtask test` takes no arguments, got {unknown:?}");
    }
    say("checking the tools: the wasm32 target, npm dependencies, the wasm-bindgen CLI");
    tools::ensure_wasm_target()?;
    tools::ensure_npm_deps(root)?;
    tools::ensure_wasm_bindgen_cli(root)?;
    tools::ensure_redis()?;

    say("formatting and lints (cargo fmt --check, cargo clippy -D warnings, native and wasm32, the BFF without its sandbox)");
    process::run(
        cargo()
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(root),
    )?;
    process::run(
        cargo()
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )?;
    process::run(
        cargo()
            .args([
                "clippy",
                "-p",
                "conferbot",
                "--all-targets",
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )?;

    // The policy runs in the npm server half's wasm too: it must stay
    // runtime-neutral and warning-free there.
    process::run(
        cargo()
            .args([
                "clippy",
                "-p",
                "conferbot-policy",
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )?;
    // The npm server half's wasm: the policy as JS drives it.
    process::run(
        cargo()
            .args([
                "clippy",
                "-p",
                "conferbot-server-wasm",
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )?;
    // The production build of the BFF: no embedded sandbox.
    process::run(
        cargo()
            .args([
                "clippy",
                "-p",
                "conferbot-bff",
                "--no-default-features",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )?;

    say("native tests: the core, the policy, the sandbox and the BFF (cargo test --workspace)");
    process::run(
        cargo()
            .args(["test", "--workspace", "--exclude", "conferbot-attacks"])
            .current_dir(root),
    )?;
    attacks(root)?;

    say("the npm package (cargo xtask dist)");
    crate::dist::run(root, &[])?;

    say("wasm-bindgen tests in Node and in headless Chromium");
    crate::wasm_tests::run(root)?;

    say("building the sandbox and the BFF for the package and browser tests");
    process::run(
        cargo()
            .args(["build", "-p", "conferbot-sandbox", "-p", "conferbot-bff"])
            .current_dir(root),
    )?;
    crate::node_tests::run(root)?;
    crate::runtime_tests::run(root)?;
    crate::e2e_tests::run(root)?;
    // Short here: 30 s split between the targets (README, "Fuzzing").
    crate::fuzz::run_split(root, 30)?;

    say("all tests passed");
    Ok(())
}

/// The hostile clients of `crates/attacks` against the release BFF (as
/// deployed, and the build whose timing the bounds are stated for), one
/// test at a time so that no two floods share the two cores.
fn attacks(root: &Path) -> Result<()> {
    say("attacks against the release BFF (cargo build --release -p conferbot-bff; crates/attacks, one at a time)");
    process::run(
        cargo()
            .args(["build", "--release", "-p", "conferbot-bff"])
            .current_dir(root),
    )?;
    let bin = root.join("target").join("release").join("conferbot-bff");
    process::run(
        cargo()
            .args(["test", "-p", "conferbot-attacks", "--", "--test-threads=1"])
            .env("CONFERBOT_BFF_RELEASE", &bin)
            .current_dir(root),
    )
}
