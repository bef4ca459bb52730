//! `cargo xtask demo`: builds the npm package, starts the BFF on the embedded
//! sandbox serving the dashboard, and prints where to open it.

use std::path::Path;

use anyhow::Result;

use crate::process::{self, say};
use crate::tools::{self, cargo};

/// Where the demo listens unless `--listen` is given.
const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Builds, then serves until interrupted. Extra arguments go to `conferbot-bff`
/// (for example `--listen 127.0.0.1:9000`).
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    say("checking the tools: the wasm32 target, npm dependencies, the wasm-bindgen CLI");
    tools::ensure_wasm_target()?;
    tools::ensure_npm_deps(root)?;
    tools::ensure_wasm_bindgen_cli(root)?;

    say("building the npm package into pkg/");
    crate::dist::run(root, &[])?;

    say("building the BFF (conferbot-bff)");
    process::run(
        cargo()
            .args(["build", "-p", "conferbot-bff"])
            .current_dir(root),
    )?;

    let listen = args
        .windows(2)
        .find(|pair| pair[0] == "--listen")
        .map_or(DEFAULT_LISTEN, |pair| pair[1].as_str());
    say(&format!(
        "starting the BFF on the embedded sandbox: open http://{listen}/ (Ctrl-C stops it)"
    ));
    let bff = root.join("target").join("debug").join("conferbot-bff");
    let mut cmd = std::process::Command::new(bff);
    // --sandbox-activity makes the embedded sandbox simulate a response every
    // few seconds, delivered as a signed webhook to the BFF and pushed to the
    // page over SSE: the dashboard's response counts rise live.
    cmd.args(["--sandbox", "--sandbox-activity", "3s", "--www"])
        .arg(root.join("www"))
        .arg("--pkg")
        .arg(root.join("pkg"));
    if !args.iter().any(|a| a == "--listen") {
        cmd.args(["--listen", DEFAULT_LISTEN]);
    }
    cmd.args(args).current_dir(root);
    process::run(&mut cmd)
}
