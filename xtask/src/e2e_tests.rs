//! The dashboard's end-to-end tests: `tests/e2e/*.test.mjs` under `node --test`,
//! driving Debian's Chromium through playwright-core against the real BFF and
//! sandbox binaries on 127.0.0.1.
//!
//! Assumes what they test is built: the npm package in `pkg/` (`cargo xtask
//! dist`) and both servers (`cargo build -p conferbot-sandbox -p conferbot-bff`).
//! Installs what they drive: Chromium from Debian's packages, and the npm
//! dependencies from the lockfile. First type-checks the widgets' JSDoc
//! against the package's own `.d.ts` (`tsc -p www`, no emit), since a widget
//! that misreads the package fails there more clearly than in a browser.
//! Screenshots land in `target/e2e/` (`dashboard.png`, `responses.png`: the
//! dashboard with a chatbot's responses open). The dashboard and the key-leak
//! audit then run a second time with the dashboard served by a Node server
//! around the package's handler (`tests/node/handler-server.mjs`).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::process::{run as run_step, say};
use crate::tools;

/// The tests run a second time against the package's own server half
/// (`tests/e2e/support/servers.mjs`: `CONFERBOT_E2E_SERVER=handler`).
const HANDLER_RERUN: [&str; 2] = ["dashboard.test.mjs", "key-leak.test.mjs"];

/// Runs the browser tests; fails if any fails.
pub fn run(root: &Path) -> Result<()> {
    say("the dashboard in Chromium against the BFF and the sandbox (node --test tests/e2e/)");
    let (chromium, _driver) = tools::ensure_chromium()?;
    tools::ensure_npm_deps(root)?;

    let sandbox = binary(root, "CONFERBOT_SANDBOX_BIN", "conferbot-sandbox");
    let bff = binary(root, "CONFERBOT_BFF_BIN", "conferbot-bff");
    let mut missing: Vec<String> = [&sandbox, &bff]
        .iter()
        .filter(|path| !path.exists())
        .map(|path| {
            format!(
                "{} (cargo build -p conferbot-sandbox -p conferbot-bff)",
                path.display()
            )
        })
        .collect();
    if !root.join("pkg").join("package.json").exists() {
        missing.push("pkg/package.json (cargo xtask dist)".to_owned());
    }
    if !missing.is_empty() {
        bail!(
            "the browser tests need what is not built yet:\n  {}",
            missing.join("\n  ")
        );
    }

    say("type-checking the widgets' JSDoc against the package's .d.ts (tsc -p www)");
    run_step(
        Command::new(root.join("node_modules").join(".bin").join("tsc"))
            .args(["-p", "www"])
            .current_dir(root),
    )?;

    let files = test_files(&root.join("tests").join("e2e"))?;
    run_step(
        Command::new("node")
            .args(["--test", "--test-reporter=spec"])
            .args(&files)
            .env("CONFERBOT_ROOT", root)
            .env("CONFERBOT_SANDBOX_BIN", &sandbox)
            .env("CONFERBOT_BFF_BIN", &bff)
            .env("CONFERBOT_CHROMIUM", &chromium)
            .current_dir(root),
    )?;
    say("the dashboard and the key-leak audit again, served by a Node server around the package's handler (conferbot-wasm/server) instead of conferbot-bff");
    run_step(
        Command::new("node")
            .args(["--test", "--test-reporter=spec"])
            .args(HANDLER_RERUN.map(|file| root.join("tests").join("e2e").join(file)))
            .env("CONFERBOT_ROOT", root)
            .env("CONFERBOT_SANDBOX_BIN", &sandbox)
            .env("CONFERBOT_BFF_BIN", &bff)
            .env("CONFERBOT_CHROMIUM", &chromium)
            .env("CONFERBOT_E2E_SERVER", "handler")
            .current_dir(root),
    )?;
    let shots = root.join("target").join("e2e");
    say(&format!(
        "browser tests passed; screenshots: {} and {}",
        shots.join("dashboard.png").display(),
        shots.join("responses.png").display()
    ));
    Ok(())
}

/// The `*.test.mjs` files in `dir`, sorted; named one by one because
/// `node --test <folder>` means different things across Node versions.
fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".test.mjs"))
        {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("no *.test.mjs files in {}", dir.display());
    }
    Ok(files)
}

/// The binary named by `var`, else `target/debug/<name>`.
fn binary(root: &Path, var: &str, name: &str) -> PathBuf {
    env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("debug").join(name))
}
