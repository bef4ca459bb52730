//! The npm package's entry points, found the way Node and bundlers find
//! them: through the `exports` of `pkg/package.json`, with the `node` or the
//! `browser` condition.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::Value;

/// The built package in `pkg/`.
pub struct Package {
    /// `pkg/`.
    pub dir: PathBuf,
    /// The module Node loads (`exports["."]` under `node`).
    pub node_entry: PathBuf,
    /// The module a browser bundle loads (`exports["."]` under `browser`).
    pub browser_entry: PathBuf,
}

impl Package {
    /// Reads `pkg/package.json` and resolves both entries.
    pub fn find(root: &Path) -> Result<Package> {
        let dir = root.join("pkg");
        let manifest_path = dir.join("package.json");
        let text = fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let manifest: Value = serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", manifest_path.display()))?;
        let entry = |conditions: &[&str]| -> Result<PathBuf> {
            let relative = resolve_export(&manifest, conditions).ok_or_else(|| {
                anyhow!("pkg/package.json exports nothing for the conditions {conditions:?}")
            })?;
            let path = dir.join(relative.trim_start_matches("./"));
            if !path.exists() {
                return Err(anyhow!(
                    "pkg/package.json points at {}, which does not exist",
                    path.display()
                ));
            }
            Ok(path)
        };
        Ok(Package {
            node_entry: entry(&["node", "import", "default"])?,
            browser_entry: entry(&["browser", "import", "default"])?,
            dir,
        })
    }

    /// The entry's path inside `pkg/`, with `/` separators.
    pub fn relative(&self, entry: &Path) -> String {
        entry
            .strip_prefix(&self.dir)
            .unwrap_or(entry)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// The target of the package's main export under `conditions`, tried in the
/// order given (serde_json does not keep key order, so this approximates
/// Node's first-matching-key rule by preferring the most specific condition),
/// falling back to `module`/`main` when there is no `exports`.
fn resolve_export(manifest: &Value, conditions: &[&str]) -> Option<String> {
    match manifest.get("exports") {
        Some(Value::Object(map)) if map.keys().any(|k| k.starts_with('.')) => {
            map.get(".").and_then(|v| resolve(v, conditions))
        }
        Some(exports) => resolve(exports, conditions),
        None => ["module", "main"]
            .iter()
            .find_map(|k| manifest[*k].as_str().map(str::to_owned)),
    }
}

fn resolve(value: &Value, conditions: &[&str]) -> Option<String> {
    match value {
        Value::String(target) => Some(target.clone()),
        Value::Array(options) => options.iter().find_map(|v| resolve(v, conditions)),
        Value::Object(map) => conditions
            .iter()
            .find_map(|c| map.get(*c).and_then(|v| resolve(v, conditions))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_the_most_specific_condition() {
        let manifest = json!({"exports": {".": {
            "types": "./t.d.ts",
            "browser": {"import": "./web/index.js"},
            "node": {"import": "./node/index.mjs", "require": "./node/index.cjs"},
            "default": "./web/index.js"
        }}});
        assert_eq!(
            resolve_export(&manifest, &["node", "import", "default"]).as_deref(),
            Some("./node/index.mjs")
        );
        assert_eq!(
            resolve_export(&manifest, &["browser", "import", "default"]).as_deref(),
            Some("./web/index.js")
        );
    }

    #[test]
    fn falls_back_to_main() {
        let manifest = json!({"main": "index.js"});
        assert_eq!(
            resolve_export(&manifest, &["node"]).as_deref(),
            Some("index.js")
        );
    }
}
