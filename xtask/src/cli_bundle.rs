//! The `conferbot` command line in the npm package: `cli/` bundled by esbuild
//! into one file, `pkg/cli.js` (the package's `bin`), with the licences of
//! the libraries it bundles in `pkg/cli-licenses.txt`.
//!
//! Bundled rather than depended on: the package keeps no runtime
//! dependencies, so it installs offline wherever the wasm does, and the CLI's
//! libraries (commander, cli-progress, csv-stringify, string-width) are the
//! versions pinned in the repository's `package-lock.json`. The client itself
//! is left out of the bundle: `cli.js` imports `conferbot-wasm`, which Node
//! resolves to the package it sits in (a self-reference through `exports`),
//! so the CLI runs the very client users import.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::process::{run, say};

/// What the bundle starts with: the shebang of a `bin`, and a `require` for
/// the CommonJS libraries it bundles (esbuild's ESM output has none).
const BANNER: &str = "#!/usr/bin/env node\n\
// conferbot: the command line of conferbot-wasm (cli/ in its repository), bundled by esbuild;\n\
// the licences of the bundled libraries are in cli-licenses.txt.\n\
import { createRequire as conferbotCreateRequire } from \"node:module\";\n\
const require = conferbotCreateRequire(import.meta.url);";

/// Bundles `cli/main.js` into `pkg/cli.js` and writes `pkg/cli-licenses.txt`.
pub fn bundle(root: &Path, pkg: &Path) -> Result<()> {
    say("bundling the conferbot command line (cli/ → pkg/cli.js, esbuild)");
    let esbuild = root.join("node_modules").join(".bin").join("esbuild");
    let meta = root.join("target").join("cli-bundle-meta.json");
    fs::create_dir_all(root.join("target"))?;
    let out = pkg.join("cli.js");
    run(Command::new(&esbuild)
        .current_dir(root)
        .args([
            "cli/main.js",
            "--bundle",
            "--platform=node",
            "--format=esm",
            "--target=node20",
            "--external:conferbot-wasm",
            "--legal-comments=eof",
            "--log-level=warning",
        ])
        .arg(format!("--banner:js={BANNER}"))
        .arg(format!("--outfile={}", out.display()))
        .arg(format!("--metafile={}", meta.display())))?;
    make_executable(&out)?;
    let licenses = licenses(root, &meta)?;
    fs::write(pkg.join("cli-licenses.txt"), licenses).context("writing pkg/cli-licenses.txt")
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// The name, version, licence and licence text of every npm package the
/// bundle holds, as esbuild's metafile lists their files.
fn licenses(root: &Path, meta: &Path) -> Result<String> {
    let text = fs::read_to_string(meta).with_context(|| format!("reading {}", meta.display()))?;
    let meta: Value = serde_json::from_str(&text)?;
    let packages: BTreeSet<PathBuf> = meta["inputs"]
        .as_object()
        .map(|inputs| inputs.keys().filter_map(|file| package_dir(file)).collect())
        .unwrap_or_default();
    let mut out = String::from(
        "Libraries bundled into cli.js (the conferbot command line), with their licences.\n",
    );
    for dir in packages {
        let manifest: Value =
            serde_json::from_str(&fs::read_to_string(root.join(&dir).join("package.json"))?)?;
        let field = |name: &str| manifest[name].as_str().unwrap_or("?").to_owned();
        out.push_str(&format!(
            "\n==== {} {} ({})\n\n",
            field("name"),
            field("version"),
            field("license")
        ));
        let licence = fs::read_dir(root.join(&dir))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.to_ascii_uppercase().starts_with("LICEN"))
            });
        match licence {
            Some(path) => out.push_str(fs::read_to_string(path)?.trim_end()),
            None => out.push_str("(no licence file in the package)"),
        }
        out.push('\n');
    }
    Ok(out)
}

/// `node_modules/a/lib/x.js` → `node_modules/a`; `node_modules/@s/b/x.js` →
/// `node_modules/@s/b`; the innermost package of nested `node_modules`.
fn package_dir(file: &str) -> Option<PathBuf> {
    let at = file.rfind("node_modules/")? + "node_modules/".len();
    let rest = &file[at..];
    let mut parts = rest.split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_owned()
    };
    Some(PathBuf::from(&file[..at]).join(name))
}

#[cfg(test)]
mod tests {
    use super::package_dir;
    use std::path::PathBuf;

    #[test]
    fn finds_the_package_of_a_bundled_file() {
        assert_eq!(
            package_dir("node_modules/commander/lib/command.js"),
            Some(PathBuf::from("node_modules/commander"))
        );
        assert_eq!(
            package_dir("node_modules/a/node_modules/@s/b/index.js"),
            Some(PathBuf::from("node_modules/a/node_modules/@s/b"))
        );
        assert_eq!(package_dir("cli/main.js"), None);
    }
}
