//! The npm package (being built).

use std::path::Path;

use anyhow::Result;

/// Builds `pkg/`.
pub fn run(_root: &Path, _args: &[String]) -> Result<()> {
    anyhow::bail!("dist is not built yet")
}
