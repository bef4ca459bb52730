//! Finding, or installing, each tool the commands need, saying so each time.
//!
//! - the `wasm32-unknown-unknown` target, through rustup;
//! - the wasm-bindgen CLI at exactly the version in Cargo.lock (the CLI and
//!   the library must match), built with `cargo install` into a per-version
//!   folder under `~/.cache/conferbot-wasm/tools`, so a global install of
//!   another version is left alone;
//! - npm dependencies from `package-lock.json` (`npm ci`), which bring
//!   `wasm-opt` (npm package `binaryen`), `playwright-core` and the bundlers;
//! - Chromium and ChromeDriver from Debian's packages (`apt-get`).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::process::{output, run, say};

/// The wasm target every wasm build uses.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The `cargo` that runs xtask.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Installs the wasm32 target if rustup does not list it.
pub fn ensure_wasm_target() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    say(&format!(
        "installing the Rust target {WASM_TARGET} (rustup)"
    ));
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// The wasm-bindgen version Cargo.lock resolved.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package; build the wasm crate once first")
}

/// The folder holding `wasm-bindgen` and `wasm-bindgen-test-runner` at the
/// locked version, installing them there first if needed.
pub fn ensure_wasm_bindgen_cli(root: &Path) -> Result<PathBuf> {
    let version = wasm_bindgen_version(root)?;
    let install_root = tools_home().join(format!("wasm-bindgen-{version}"));
    let bin = install_root.join("bin");
    let reported =
        output(Command::new(bin.join("wasm-bindgen")).arg("--version")).unwrap_or_default();
    if reported.split_whitespace().nth(1) == Some(version.as_str()) {
        return Ok(bin);
    }
    say(&format!(
        "installing wasm-bindgen-cli {version} (matches the crate's pinned wasm-bindgen; cargo install, a few minutes, once) into {}",
        install_root.display()
    ));
    let install = |locked: bool| {
        let mut cmd = cargo();
        cmd.arg("install");
        if locked {
            cmd.arg("--locked");
        }
        cmd.args(["--force", "wasm-bindgen-cli", "--version"])
            .arg(format!("={version}"))
            .arg("--root")
            .arg(&install_root);
        run(&mut cmd)
    };
    // The CLI's own lockfile can pin a crate version the registry no longer
    // serves (webpki-roots 1.0.11 for 0.2.130); then resolve afresh.
    if install(true).is_err() {
        say("`cargo install --locked` failed; retrying without the CLI's lockfile");
        install(false)?;
    }
    Ok(bin)
}

/// Where installed tools are kept between runs.
pub fn tools_home() -> PathBuf {
    let base = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(env::temp_dir);
    base.join("conferbot-wasm").join("tools")
}

/// Installs the npm dependencies from the lockfile when `node_modules` is
/// missing or older than `package-lock.json`.
pub fn ensure_npm_deps(root: &Path) -> Result<()> {
    let lock = root.join("package-lock.json");
    let installed = root.join("node_modules").join(".package-lock.json");
    let fresh = match (
        fs::metadata(&lock).and_then(|m| m.modified()),
        fs::metadata(&installed).and_then(|m| m.modified()),
    ) {
        (Ok(lock_time), Ok(installed_time)) => installed_time >= lock_time,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    say("installing npm dependencies from package-lock.json (npm ci)");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(root))
}

/// `wasm-opt` from the npm package `binaryen` (after [`ensure_npm_deps`]).
pub fn wasm_opt(root: &Path) -> Option<PathBuf> {
    let path = root.join("node_modules").join(".bin").join("wasm-opt");
    path.exists().then_some(path)
}

/// Paths of Debian's Chromium and ChromeDriver, installing both with apt-get if missing.
pub fn ensure_chromium() -> Result<(PathBuf, PathBuf)> {
    let chromium = PathBuf::from("/usr/bin/chromium");
    let driver = PathBuf::from("/usr/bin/chromedriver");
    if !(chromium.exists() && driver.exists()) {
        apt_install(
            &["chromium", "chromium-driver"],
            "Chromium and ChromeDriver for the browser tests",
        )?;
    }
    if !(chromium.exists() && driver.exists()) {
        bail!("apt-get installed chromium and chromium-driver, but /usr/bin/chromium or /usr/bin/chromedriver is missing");
    }
    Ok((chromium, driver))
}

/// Installs Debian packages, with `sudo` when not root.
pub fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    say(&format!(
        "installing {} from Debian's packages: {why} (apt-get)",
        packages.join(", ")
    ));
    let as_root = output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let apt = |args: &[&str]| -> Command {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !as_root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(packages);
    run(&mut install)
}

/// util-linux's `script` (Debian's `bsdutils`), which runs the CLI under a
/// pseudo-terminal in the Node tests.
pub fn ensure_script() -> Result<()> {
    let script = PathBuf::from("/usr/bin/script");
    if !script.exists() {
        apt_install(
            &["bsdutils"],
            "`script`, a pseudo-terminal for the CLI's tests",
        )?;
    }
    if !script.exists() {
        bail!("apt-get installed bsdutils, but /usr/bin/script is missing");
    }
    Ok(())
}

/// Debian's `redis-server`, which the BFF's scale-out tests start on a free port.
pub fn ensure_redis() -> Result<PathBuf> {
    let server = PathBuf::from("/usr/bin/redis-server");
    if !server.exists() {
        apt_install(&["redis-server"], "Redis for the BFF's scale-out tests")?;
    }
    if !server.exists() {
        bail!("apt-get installed redis-server, but /usr/bin/redis-server is missing");
    }
    Ok(server)
}
