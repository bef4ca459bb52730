//! Running a bench script of `tests/bench/` in a fresh Node process: its
//! configuration goes in as one JSON argument, its result comes back as the
//! last line of stdout, also JSON.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use super::servers::with_raised_fd_limit;

/// Runs `node [node_args] tests/bench/<script> <config>` and parses its result.
/// Returns it with the process's wall time.
pub fn run_script(
    root: &Path,
    script: &str,
    node_args: &[&str],
    config: &Value,
) -> Result<(Value, Duration)> {
    let path = root.join("tests").join("bench").join(script);
    let mut node = Command::new("node");
    node.args(node_args).arg(&path).arg(config.to_string());
    // Through `sh` with the open-file limit raised: some scripts hold 1,000 sockets.
    let mut cmd = with_raised_fd_limit(&node);
    cmd.current_dir(root);
    let started = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("could not start node {}", path.display()))?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "node {script} failed ({}): {}",
            out.status,
            tail(&stderr, 1200)
        );
    }
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow!("node {script} printed no result"))?;
    let value = serde_json::from_str(last)
        .with_context(|| format!("node {script} printed a result that is not JSON: {last}"))?;
    Ok((value, wall))
}

/// A number field of a script's result.
pub fn number(value: &Value, field: &str) -> Result<f64> {
    value[field]
        .as_f64()
        .ok_or_else(|| anyhow!("the result has no number {field:?}: {value}"))
}

fn tail(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    let start = trimmed
        .char_indices()
        .rev()
        .nth(max)
        .map(|(i, _)| i)
        .unwrap_or(0);
    trimmed[start..].to_owned()
}
