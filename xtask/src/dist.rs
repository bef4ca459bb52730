//! `cargo xtask dist`: the wasm build and the npm package in `pkg/`.
//!
//! 0. the files generated from the wire schema (`wire_schema`);
//! 1. `cargo build --profile wasm-release --target wasm32-unknown-unknown`;
//! 2. `wasm-bindgen --target web`: one glue module shared by both entry points;
//! 3. `wasm-opt -Oz --converge` (binaryen from npm);
//! 4. the edits of `bindgen_output` (types that check under any target, no
//!    `import.meta` in the glue, the error class importable alone, CommonJS
//!    declarations, no doc blocks in the shipped JS: the `.d.ts` has them);
//! 5. `pkg/` = that output + `pkg-template/` (entry points, package.json with
//!    the crate's version, README), plus the `conferbot` command line bundled
//!    from `cli/` (`cli_bundle`);
//! 6. the sizes, raw and gzip, of the wasm and of each entry point with the JS
//!    it loads. `--compare-opt-levels` builds with opt-level "s" too.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::bindgen_output;
use crate::process::{self, say};
use crate::tools::{self, cargo, WASM_TARGET};

/// Features rustc 1.95 enables by default for wasm32-unknown-unknown; wasm-opt
/// must accept them (the name section and `target_features` are stripped).
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

/// The version in pkg-template/package.json that dist replaces with the crate's.
const VERSION_PLACEHOLDER: &str = "0.0.0-set-by-cargo-xtask-dist";

/// Builds `pkg/` and prints its sizes.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let compare = match args {
        [] => false,
        [flag] if flag == "--compare-opt-levels" => true,
        _ => bail!("usage: cargo xtask dist [--compare-opt-levels]"),
    };
    crate::wire_schema::write(root)?;
    tools::ensure_wasm_target()?;
    let bindgen = tools::ensure_wasm_bindgen_cli(root)?;
    tools::ensure_npm_deps(root)?;
    let pkg = root.join("pkg");
    let mut sizes = build(root, &bindgen, "z", &pkg)?;
    let server = pkg.join("server");
    let wasm_opt = crate::server_dist::wasm_opt(root)?;
    crate::server_dist::build(root, &bindgen, &wasm_opt, &WASM_FEATURES, &server)?;
    assemble(root, &pkg)?;
    crate::server_dist::assemble(root, &server)?;
    sizes.add_server(&server)?;
    crate::cli_bundle::bundle(root, &pkg)?;
    say(&format!("pkg/ is ready ({})", pkg.display()));
    print_sizes(
        &format!(
            "shipped: the browser's wasm at opt-level \"z\", the server's at {}",
            crate::server_dist::SPEED_OPT_LEVEL
        ),
        &sizes,
    );
    let server_wasm = crate::server_dist::check_budget(&server)?;
    println!(
        "  server wasm within its budget: {server_wasm} B of {} B",
        crate::server_dist::WASM_BUDGET_BYTES
    );
    if compare {
        let out = root.join("target").join("wasm-opt-level-s").join("pkg");
        let s = build(root, &bindgen, "s", &out)?;
        print_sizes("opt-level \"s\" (comparison only)", &s);
        let (z, s) = (sizes.total_gzip(), s.total_gzip());
        let smaller = if z <= s { "\"z\"" } else { "\"s\"" };
        println!(
            "smaller with opt-level {smaller}: browser entry + glue + wasm, gzip: z {z} B, s {s} B"
        );
    }
    Ok(())
}

/// Compiles, binds and optimizes the wasm at `opt_level` into `out`.
fn build(root: &Path, bindgen: &Path, opt_level: &str, out: &Path) -> Result<Sizes> {
    say(&format!(
        "building the wasm (profile wasm-release, opt-level \"{opt_level}\")"
    ));
    // A separate target dir per opt-level, so comparing does not rebuild the shipped one.
    let target_dir = root.join("target").join(format!("wasm-opt-{opt_level}"));
    process::run(
        cargo()
            .current_dir(root)
            .args([
                "build",
                "-p",
                "conferbot",
                "--lib",
                "--target",
                WASM_TARGET,
                "--profile",
                "wasm-release",
            ])
            .arg("--config")
            .arg(format!("profile.wasm-release.opt-level=\"{opt_level}\""))
            // Keep `target_features` for wasm-bindgen; wasm-opt strips everything after.
            .args(["--config", "profile.wasm-release.strip=false"])
            .arg("--target-dir")
            .arg(&target_dir),
    )?;
    let wasm = target_dir
        .join(WASM_TARGET)
        .join("wasm-release")
        .join("conferbot.wasm");
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    process::run(
        Command::new(bindgen.join("wasm-bindgen"))
            .args(["--target", "web", "--out-name", "conferbot", "--out-dir"])
            .arg(out)
            .arg(&wasm),
    )?;
    let opt = tools::wasm_opt(root)
        .context("wasm-opt is missing from node_modules/.bin (npm package binaryen)")?;
    let bound = out.join("conferbot_bg.wasm");
    process::run(
        Command::new(opt)
            // `--converge` repeats -Oz while it still shrinks the module.
            .args(["-Oz", "--converge"])
            .args(WASM_FEATURES)
            .args([
                "--strip-debug",
                "--strip-producers",
                "--strip-target-features",
            ])
            .arg(&bound)
            .arg("-o")
            .arg(&bound),
    )?;
    // Its declarations of the raw exports are all `any`, and no user imports it.
    let _ = fs::remove_file(out.join("conferbot_bg.wasm.d.ts"));
    bindgen_output::edit(out)?;
    Sizes::measure(out, &root.join("pkg-template"))
}

/// Copies `pkg-template/` over the bound output and sets the version.
fn assemble(root: &Path, pkg: &Path) -> Result<()> {
    let template = root.join("pkg-template");
    for entry in
        fs::read_dir(&template).with_context(|| format!("reading {}", template.display()))?
    {
        let path = entry?.path();
        // The server half's folder is copied by `server_dist::assemble`.
        if path.is_dir() {
            continue;
        }
        if let Some(name) = path.file_name() {
            fs::copy(&path, pkg.join(name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    // A text substitution, not a JSON round trip: the order of the `exports`
    // conditions is meaningful (Node takes the first that matches).
    let manifest = pkg.join("package.json");
    let text = fs::read_to_string(&manifest)?;
    if !text.contains(VERSION_PLACEHOLDER) {
        bail!("pkg-template/package.json has no version {VERSION_PLACEHOLDER:?}");
    }
    fs::write(
        &manifest,
        text.replace(VERSION_PLACEHOLDER, &crate_version(root)?),
    )?;
    let _ = fs::remove_file(pkg.join(".gitignore"));
    Ok(())
}

/// The `conferbot` crate's version, from the root Cargo.toml.
fn crate_version(root: &Path) -> Result<String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))?;
    let package = manifest
        .split("[package]")
        .nth(1)
        .context("root Cargo.toml has no [package]")?;
    package
        .lines()
        .find_map(|line| line.trim().strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_owned())
        .context("root Cargo.toml's [package] has no version")
}

/// Raw and gzip sizes of what each kind of user loads.
struct Sizes {
    rows: Vec<(String, u64, u64)>,
    /// The server half's rows (not part of any browser total).
    server: Vec<(String, u64, u64)>,
}

impl Sizes {
    fn measure(out: &Path, template: &Path) -> Result<Self> {
        let wasm = fs::read(out.join("conferbot_bg.wasm"))?;
        let mut glue = fs::read(out.join("conferbot.js"))?;
        for snippet in files_under(&out.join("snippets"))? {
            glue.extend(fs::read(snippet)?);
        }
        let entry = |name: &str| -> Result<Vec<u8>> {
            let mut bytes = fs::read(template.join(name))?;
            bytes.extend(&glue);
            Ok(bytes)
        };
        let node = entry("node.js")?;
        let workerd = entry("workerd.js")?;
        let mut init = entry("init.js")?;
        init.extend(fs::read(out.join("conferbot_error.js"))?);
        let browser = entry("browser.js")?;
        let row = |name: &str, bytes: &[u8]| -> Result<(String, u64, u64)> {
            Ok((name.to_owned(), bytes.len() as u64, gzip_len(bytes)?))
        };
        let wasm_row = row("conferbot_bg.wasm", &wasm)?;
        let browser_row = row("browser entry: browser.js + glue", &browser)?;
        // Served as two files, so the total is the sum of the two gzips.
        let total = (
            "browser total: wasm + entry + glue".to_owned(),
            wasm_row.1 + browser_row.1,
            wasm_row.2 + browser_row.2,
        );
        let rows = vec![
            wasm_row,
            row("JS glue (conferbot.js + snippets)", &glue)?,
            row("node entry: node.js + glue", &node)?,
            row("workerd entry: workerd.js + glue", &workerd)?,
            row("init entry: init.js + error + glue", &init)?,
            browser_row,
            total,
        ];
        Ok(Self {
            rows,
            server: Vec::new(),
        })
    }

    /// Rows for the server half (`pkg/server/`): its own wasm, and its Node
    /// entry with the glue and the JS it loads; none of it is in the browser's.
    fn add_server(&mut self, server: &Path) -> Result<()> {
        let row = |name: &str, bytes: &[u8]| -> Result<(String, u64, u64)> {
            Ok((name.to_owned(), bytes.len() as u64, gzip_len(bytes)?))
        };
        let wasm = fs::read(server.join("conferbot_server_bg.wasm"))?;
        let mut js = Vec::new();
        for name in [
            "node.js",
            "conferbot_server.js",
            "core.js",
            "forward.js",
            "events.js",
            "adapters.js",
        ] {
            js.extend(
                fs::read(server.join(name)).with_context(|| format!("reading server/{name}"))?,
            );
        }
        self.server = vec![
            row("server wasm: server/conferbot_server_bg.wasm", &wasm)?,
            row("server JS: node.js + glue + core", &js)?,
        ];
        Ok(())
    }

    /// gzip of the browser total (the last browser row).
    fn total_gzip(&self) -> u64 {
        self.rows.last().map_or(0, |row| row.2)
    }
}

fn print_sizes(title: &str, sizes: &Sizes) {
    println!("\n{title}");
    println!("  {:<38} {:>10} {:>10}", "", "raw B", "gzip -9 B");
    for (name, raw, gz) in sizes.rows.iter().chain(&sizes.server) {
        println!(
            "  {name:<38} {raw:>10} {gz:>10}   ({:.1} KiB gz)",
            *gz as f64 / 1024.0
        );
    }
}

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
