//! The demo (being built).

use std::path::Path;

use anyhow::Result;

/// Runs the demo.
pub fn run(_root: &Path, _args: &[String]) -> Result<()> {
    anyhow::bail!("demo is not built yet")
}
