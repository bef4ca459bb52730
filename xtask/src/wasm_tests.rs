//! The wasm-bindgen-test suites (`tests/wasm_*.rs`), twice: in Node, then in
//! headless Chromium through ChromeDriver. The same test files run in both:
//! wasm-bindgen-test-runner picks Node by default and the browser when
//! `WASM_BINDGEN_USE_BROWSER` is set (the files carry no
//! `wasm_bindgen_test_configure!`, which would pin one).
//!
//! Installs what it needs: the wasm32 target, the wasm-bindgen CLI (its
//! `wasm-bindgen-test-runner`), Chromium and ChromeDriver.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::page_proxy::PageProxy;
use crate::process::{self, say};
use crate::tools::{self, cargo, WASM_TARGET};

/// Runs every `tests/wasm_*.rs` in Node and in headless Chromium.
pub fn run(root: &Path) -> Result<()> {
    tools::ensure_wasm_target()?;
    let bin = tools::ensure_wasm_bindgen_cli(root)?;
    let (chromium, chromedriver) = tools::ensure_chromium()?;
    let suites = wasm_test_names(root)?;
    let runner = bin.join("wasm-bindgen-test-runner");
    // The runner already passes --headless --no-sandbox (needed as root)
    // --disable-dev-shm-usage; these keep Chromium quiet and offline, and send
    // its requests through the page proxy (see `page_proxy` for why: without
    // it the runner's server can leave a module request unread for good).
    let proxy = PageProxy::start()?;
    let work = root.join("target").join("wasm-tests");
    fs::create_dir_all(&work)?;
    let profile = work.join("chromium-profile");
    let _ = fs::remove_dir_all(&profile);
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(String::from)
    .into();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(proxy.chromium_args());
    let webdriver = serde_json::json!({
        "goog:chromeOptions": { "binary": chromium, "args": args }
    });
    let webdriver_json = work.join("webdriver.json");
    fs::write(&webdriver_json, serde_json::to_string_pretty(&webdriver)?)
        .with_context(|| format!("writing {}", webdriver_json.display()))?;
    for browser in [false, true] {
        let place = if browser { "headless Chromium" } else { "Node" };
        say(&format!(
            "wasm-bindgen tests in {place}: {}",
            suites.join(", ")
        ));
        let mut cmd = cargo();
        cmd.current_dir(root)
            .args(["test", "-p", "conferbot", "--target", WASM_TARGET])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "60");
        for suite in &suites {
            cmd.args(["--test", suite]);
        }
        if browser {
            cmd.env("WASM_BINDGEN_USE_BROWSER", "1")
                .env("CHROMEDRIVER", &chromedriver)
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json);
        } else {
            cmd.env_remove("WASM_BINDGEN_USE_BROWSER");
        }
        process::run(&mut cmd)?;
    }
    Ok(())
}

/// `wasm_errors_and_types`, … : the test targets named `tests/wasm_*.rs`.
fn wasm_test_names(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(root.join("tests")).context("reading tests/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_prefix("wasm_").and(name.strip_suffix(".rs")) {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    anyhow::ensure!(!names.is_empty(), "no tests/wasm_*.rs found");
    Ok(names)
}
