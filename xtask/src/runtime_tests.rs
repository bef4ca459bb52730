//! The packed package in every runtime users run it in (`tests/runtimes/`):
//! Node (ESM and CommonJS), Bun, Deno, Cloudflare workerd through Miniflare
//! (the Worker bundled as wrangler bundles it), Chromium (a plain module, a
//! Vite build, esbuild builds of the init entry), each listing chatbots once
//! against a sandbox the tests start; and `tsc` over consumer projects.
//!
//! Bun, Deno, Miniflare (with workerd) and Vite are npm devDependencies of
//! the workspace: `npm ci` brings their binaries from the npm registry (the
//! packages `@oven/bun-linux-x64`, `@deno/linux-x64-glibc`,
//! `@cloudflare/workerd-linux-64` and their peers for other platforms).
//! Assumes what it tests is built, as `node_tests` does.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Result};

use crate::process::{self, output, say};
use crate::tools;

/// The runtimes' binaries the tests start, by their `node_modules/.bin` names.
const RUNTIME_BINARIES: [&str; 2] = ["bun", "deno"];

/// Runs `node --test tests/runtimes/*.test.js` against the built servers and package.
pub fn run(root: &Path) -> Result<()> {
    tools::ensure_npm_deps(root)?;
    let (chromium, _) = tools::ensure_chromium()?;
    for name in RUNTIME_BINARIES {
        let bin = root.join("node_modules").join(".bin").join(name);
        let Some(version) = output(Command::new(&bin).arg("--version")) else {
            bail!(
                "{} does not run: its npm package's postinstall links the binary (run `npm ci` without --ignore-scripts)",
                bin.display()
            );
        };
        say(&format!(
            "`{name} --version`: {} (npm devDependency)",
            version.lines().next().unwrap_or_default().trim()
        ));
    }
    say("the packed package in every runtime, and its types in every TypeScript setup (node --test tests/runtimes/)");
    let bin = root.join("target").join("debug");
    process::run(
        Command::new("node")
            .current_dir(root)
            .args([
                "--test",
                "--test-reporter=spec",
                "--test-concurrency=1",
                "tests/runtimes/client.test.js",
                "tests/runtimes/server.test.js",
                "tests/runtimes/typescript.test.js",
            ])
            .env("CONFERBOT_SANDBOX_BIN", bin.join("conferbot-sandbox"))
            .env("CONFERBOT_BFF_BIN", bin.join("conferbot-bff"))
            .env("CONFERBOT_PKG_DIR", root.join("pkg"))
            .env("CHROMIUM_BIN", chromium),
    )
}
