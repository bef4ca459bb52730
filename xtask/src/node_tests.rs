//! The `node --test` suite of the built package (`tests/node/`): the package
//! against the real sandbox and BFF binaries, packed and installed into a
//! fresh project (`runtime_tests` takes it to the other runtimes); and its
//! `conferbot` command line (`tests/node/cli-*.test.js`), run from the
//! installed bin, in pipes and under a pseudo-terminal (`script`).
//!
//! Assumes what it tests is built (`cargo xtask test` does it first): the
//! debug sandbox and BFF (`cargo build -p conferbot-sandbox -p conferbot-bff`)
//! and `pkg/` (`cargo xtask dist`). Passes their paths as
//! `CONFERBOT_SANDBOX_BIN`, `CONFERBOT_BFF_BIN`, `CONFERBOT_PKG_DIR`.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::process::{self, say};
use crate::tools;

/// Runs `node --test tests/node/` against the built servers and package.
pub fn run(root: &Path) -> Result<()> {
    tools::ensure_npm_deps(root)?;
    tools::ensure_script()?;
    say("Node tests of the built package (node --test tests/node/)");
    let bin = root.join("target").join("debug");
    process::run(
        Command::new("node")
            .current_dir(root)
            .args([
                "--test",
                "--test-reporter=spec",
                "--test-concurrency=1",
                "tests/node/",
            ])
            .env("CONFERBOT_SANDBOX_BIN", bin.join("conferbot-sandbox"))
            .env("CONFERBOT_BFF_BIN", bin.join("conferbot-bff"))
            .env("CONFERBOT_PKG_DIR", root.join("pkg")),
    )
}
