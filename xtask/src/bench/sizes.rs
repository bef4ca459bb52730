//! Section 1, package weight: raw and gzip bytes of the `.wasm` and of the JS
//! glue each entry point pulls in, bundled by esbuild as an application
//! would, unminified and minified; the peer is the plain-JS client bundled
//! the same way.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use super::report::{bytes, ratio, Row, Section};
use super::Bench;

/// The target for wasm + glue, gzip (issue 13: 45 KiB; it was 60 KiB).
const TARGET_GZIP_BYTES: u64 = 45 * 1024;

/// What one entry point weighs.
struct Weight {
    /// Each `.wasm` it loads: name, raw bytes, gzip bytes.
    wasm: Vec<(String, u64, u64)>,
    /// The bundled JS, unminified: raw and gzip bytes.
    glue: (u64, u64),
    /// The bundled JS, minified: raw and gzip bytes.
    glue_min: (u64, u64),
}

impl Weight {
    fn wasm_raw(&self) -> u64 {
        self.wasm.iter().map(|w| w.1).sum()
    }
    fn wasm_gzip(&self) -> u64 {
        self.wasm.iter().map(|w| w.2).sum()
    }
    fn to_json(&self) -> Value {
        json!({
            "wasm": self.wasm.iter().map(|(n, r, g)| json!({"file": n, "raw": r, "gzip": g})).collect::<Vec<_>>(),
            "glue": {"raw": self.glue.0, "gzip": self.glue.1},
            "glue_minified": {"raw": self.glue_min.0, "gzip": self.glue_min.1},
        })
    }
}

/// Measures section 1.
pub fn measure(bench: &Bench) -> Result<Section> {
    let package = bench.package()?;
    let esbuild = bench.root.join("node_modules").join(".bin").join("esbuild");
    if !esbuild.exists() {
        bail!("{} is missing (npm ci)", esbuild.display());
    }
    let plain = bench
        .root
        .join("tests")
        .join("bench")
        .join("plain-client.mjs");
    let out = bench.work.join("sizes");
    let mut section = Section::new(
        "sizes",
        "1. Package weight",
        "Bytes an application ships for each entry point of `pkg/package.json`: the `.wasm` plus the JS glue the entry \
         pulls in, bundled by esbuild (`--bundle --format=esm`) unminified and `--minify`ed; gzip at level 9. \
         Peer: `tests/bench/plain-client.mjs`, a minimal plain-JS fetch client of the same endpoints (same input \
         checks, error shape and retries), bundled the same way. Target: wasm + glue ≤ 45 KiB gzip.",
    );
    let mut raw = serde_json::Map::new();
    for (label, entry, platform) in [
        ("node", &package.node_entry, "node"),
        ("browser", &package.browser_entry, "browser"),
    ] {
        let ours = weigh(
            &esbuild,
            entry,
            platform,
            &out.join(format!("{label}-wasm")),
            Some(&package.dir),
        )?;
        let peer = weigh(
            &esbuild,
            &plain,
            platform,
            &out.join(format!("{label}-plain")),
            None,
        )?;
        let entry_name = package.relative(entry);
        let wasm_names = ours
            .wasm
            .iter()
            .map(|w| w.0.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let total = |w: &Weight, glue: (u64, u64)| w.wasm_gzip() + glue.1;
        for (what, ours_total, peer_total) in [
            (
                "minified glue",
                total(&ours, ours.glue_min),
                total(&peer, peer.glue_min),
            ),
            (
                "unminified glue",
                total(&ours, ours.glue),
                total(&peer, peer.glue),
            ),
        ] {
            section.rows.push(
                Row::report(
                    format!("{label} (`{entry_name}`): wasm + {what}, gzip"),
                    bytes(ours_total),
                    bytes(peer_total),
                    ratio(ours_total as f64, peer_total as f64),
                )
                .target("≤ 45 KiB", ours_total <= TARGET_GZIP_BYTES),
            );
        }
        section.rows.push(Row::report(
            format!("{label}: .wasm ({wasm_names}) raw / gzip"),
            format!("{} / {}", bytes(ours.wasm_raw()), bytes(ours.wasm_gzip())),
            "none".to_owned(),
            None,
        ));
        for (what, o, p) in [
            ("unminified", ours.glue, peer.glue),
            ("minified", ours.glue_min, peer.glue_min),
        ] {
            section.rows.push(Row::report(
                format!("{label}: JS glue, {what}, raw / gzip"),
                format!("{} / {}", bytes(o.0), bytes(o.1)),
                format!("{} / {}", bytes(p.0), bytes(p.1)),
                ratio(o.1 as f64, p.1 as f64),
            ));
        }
        raw.insert(
            label.to_owned(),
            json!({"entry": entry_name, "ours": ours.to_json(), "peer": peer.to_json()}),
        );
    }
    section.notes.push(
        "Ratios compare gzip bytes. The peer has no .wasm; its whole weight is JS. The shipped files are \
         unminified; an application's bundler minifies the glue (not the .wasm, already optimised by wasm-opt)."
            .into(),
    );
    section.raw = Value::Object(raw);
    Ok(section)
}

/// Bundles `entry` twice (unminified, minified) and finds the `.wasm` it loads.
fn weigh(
    esbuild: &Path,
    entry: &Path,
    platform: &str,
    out: &Path,
    package_dir: Option<&Path>,
) -> Result<Weight> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (glue_js, meta) = bundle(esbuild, entry, platform, false, out)?;
    let (glue_min_js, _) = bundle(esbuild, entry, platform, true, out)?;
    let mut wasm = Vec::new();
    if let Some(dir) = package_dir {
        let entry_dir = entry.parent().unwrap_or(dir);
        for path in wasm_files(dir, entry_dir, &glue_js, &meta)? {
            let content = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            wasm.push((name, content.len() as u64, gzip_len(&content)?));
        }
        if wasm.is_empty() {
            bail!(
                "found no .wasm loaded by {} (neither imported nor named in its glue)",
                entry.display()
            );
        }
    }
    Ok(Weight {
        wasm,
        glue: (glue_js.len() as u64, gzip_len(&glue_js)?),
        glue_min: (glue_min_js.len() as u64, gzip_len(&glue_min_js)?),
    })
}

/// Runs esbuild; returns the bundled JS and its metafile.
fn bundle(
    esbuild: &Path,
    entry: &Path,
    platform: &str,
    minify: bool,
    out: &Path,
) -> Result<(Vec<u8>, Value)> {
    let name = if minify { "bundle.min" } else { "bundle" };
    let outfile = out.join(format!("{name}.js"));
    let metafile = out.join(format!("{name}.meta.json"));
    let mut cmd = Command::new(esbuild);
    cmd.arg(entry)
        .args([
            "--bundle",
            "--format=esm",
            "--loader:.wasm=file",
            "--log-level=error",
        ])
        .arg(format!("--platform={platform}"))
        .arg(format!("--outfile={}", outfile.display()))
        .arg(format!("--metafile={}", metafile.display()));
    if minify {
        cmd.arg("--minify");
    }
    let result = cmd
        .output()
        .with_context(|| format!("could not run {}", esbuild.display()))?;
    if !result.status.success() {
        bail!(
            "esbuild failed on {}: {}",
            entry.display(),
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    let js = fs::read(&outfile).with_context(|| format!("reading {}", outfile.display()))?;
    let meta =
        serde_json::from_slice(&fs::read(&metafile)?).context("parsing the esbuild metafile")?;
    Ok((js, meta))
}

/// The `.wasm` files of `package_dir` that the bundle imports (esbuild's
/// file loader) or names (`new URL("x_bg.wasm", import.meta.url)`, `readFileSync`);
/// a name found in the entry's own folder is taken from there, else the first
/// file of that name in the package.
fn wasm_files(
    package_dir: &Path,
    entry_dir: &Path,
    glue: &[u8],
    meta: &Value,
) -> Result<Vec<PathBuf>> {
    let mut names: BTreeSet<String> = meta["inputs"]
        .as_object()
        .map(|inputs| {
            inputs
                .keys()
                .filter(|k| k.ends_with(".wasm"))
                .filter_map(|k| k.rsplit('/').next().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.extend(wasm_names_in(&String::from_utf8_lossy(glue)));
    let mut everywhere = Vec::new();
    collect_wasm(package_dir, &names, &mut everywhere)?;
    everywhere.sort();
    let mut found = Vec::new();
    for name in &names {
        let local = entry_dir.join(name);
        if local.is_file() {
            found.push(local);
        } else if let Some(path) = everywhere
            .iter()
            .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name.as_str()))
        {
            found.push(path.clone());
        }
    }
    Ok(found)
}

/// Every `name.wasm` written in `text`.
fn wasm_names_in(text: &str) -> Vec<String> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    text.match_indices(".wasm")
        .filter_map(|(end, _)| {
            let start = text[..end]
                .rfind(|c: char| !name_char(c))
                .map(|i| i + 1)
                .unwrap_or(0);
            (start < end).then(|| format!("{}.wasm", &text[start..end]))
        })
        .collect()
}

fn collect_wasm(dir: &Path, names: &BTreeSet<String>, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_wasm(&path, names, found)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| names.contains(n))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// Bytes of `data` gzipped at level 9.
pub fn gzip_len(data: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_wasm_names_in_glue() {
        let glue = r#"const p = new URL("conferbot_bg.wasm", import.meta.url); fs.readFileSync(path.join(__dirname, 'node/x-y.wasm'))"#;
        assert_eq!(
            wasm_names_in(glue),
            vec!["conferbot_bg.wasm".to_owned(), "x-y.wasm".to_owned()]
        );
    }
}
