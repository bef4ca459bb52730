//! The npm package's server half, `pkg/server/`: `crates/server-wasm` built
//! for wasm32 on its own (so the browser's wasm does not carry it, nor it the
//! client), bound, optimized and checked against its size budget, plus the
//! JS of `pkg-template/server/` and its declarations, whose options are
//! written from the policy's option table (`conferbot_policy::server_options`).
//!
//! The cargo build uses its own target dir: built in the same invocation as
//! the client, feature unification would turn the core's `js-client` on.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use conferbot_policy::server_options::{OptionDefault, OPTIONS};
use conferbot_policy::shared_state::scripts;

use crate::process::{self, say};
use crate::tools::{self, cargo, WASM_TARGET};

/// The server wasm's budget, raw bytes after wasm-opt: 264,350 B when it was
/// set (at 300 KiB), 287,386 B with the core's wire schema (issue 13),
/// 303,086 B with the quota features (issue 9: patches, revalidation, the
/// month's book, the shared scripts' arguments), after taking out what it
/// need not carry (`time`'s format descriptions, serde's `flatten` and
/// `untagged` buffering, `httpdate`, the Lua texts and option help, now
/// package files); then the access features (issue 12: the fair window by
/// client and its monthly caps, the secret scan in every spelling, the host
/// allowlist, client identity behind trusted proxies, webhook targets on
/// JS's own URL parser rather than the `url` crate's 160 KB) brought it to
/// about 375,000 B, measured item by item with twiggy: no part of it is
/// dead weight, so the budget became 384 KiB. Built for speed rather than
/// size (opt-level 3 and `wasm-opt -O3`, [`SPEED_OPT_LEVEL`]) it is about
/// 467,000 B, and the budget 480 KiB: its bytes are read once per process
/// from the disk, never sent to a browser, while every request runs them.
/// `cargo xtask dist` fails above it.
pub const WASM_BUDGET_BYTES: u64 = 480 * 1024;

/// The server wasm's opt-level, rustc's and `wasm-opt`'s: `3`, for speed.
/// Measured in-process (`tests/bench/handler-core.mjs`: the handler's core
/// over 40,000 uncached pages with an in-memory upstream, a `Response` built
/// per call): 37–47 µs a request at `3` against 47–62 µs at `"z"`, the
/// browser's level (six alternating runs each, 2026-12-02). With upstream
/// calls that carry no abort signal (`pkg-template/server/forward.js`), it
/// took the handler under `wrk` from 0.85× to 1.09× the requests/s of a
/// hand-written Express proxy (BENCHMARKS.md §15). The browser's wasm stays
/// at `"z"`: there, bytes are download time.
pub const SPEED_OPT_LEVEL: &str = "3";

/// Where the declarations get the generated options.
const OPTIONS_MARKER: &str =
    "/* OPTIONS: written by cargo xtask dist from the policy's option table */";

/// The glue's fallback when init is called without a wasm location.
const DEFAULT_WASM_URL: &str = "    if (module_or_path === undefined) {
        module_or_path = new URL('conferbot_server_bg.wasm', import.meta.url);
    }
";

/// Builds `pkg/server/` at [`SPEED_OPT_LEVEL`], with `bindgen` and `wasm_opt`.
pub fn build(
    root: &Path,
    bindgen: &Path,
    wasm_opt: &Path,
    features: &[&str],
    out: &Path,
) -> Result<()> {
    let opt_level = SPEED_OPT_LEVEL;
    say(&format!(
        "building the server half's wasm (crates/server-wasm, profile wasm-release, opt-level {opt_level}, for speed)"
    ));
    let target_dir = root.join("target").join(format!("wasm-server-{opt_level}"));
    process::run(
        cargo()
            .current_dir(root)
            .args([
                "build",
                "-p",
                "conferbot-server-wasm",
                "--lib",
                "--target",
                WASM_TARGET,
                "--profile",
                "wasm-release",
            ])
            .arg("--config")
            .arg(format!("profile.wasm-release.opt-level={opt_level}"))
            .args(["--config", "profile.wasm-release.strip=false"])
            .arg("--target-dir")
            .arg(&target_dir),
    )?;
    let wasm = target_dir
        .join(WASM_TARGET)
        .join("wasm-release")
        .join("conferbot_server_wasm.wasm");
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    process::run(
        Command::new(bindgen.join("wasm-bindgen"))
            .args([
                "--target",
                "web",
                "--out-name",
                "conferbot_server",
                "--out-dir",
            ])
            .arg(out)
            .arg(&wasm),
    )?;
    let bound = out.join("conferbot_server_bg.wasm");
    process::run(
        Command::new(wasm_opt)
            .arg(format!("-O{opt_level}"))
            .args(features)
            .args([
                "--strip-debug",
                "--strip-producers",
                "--strip-target-features",
            ])
            .arg(&bound)
            .arg("-o")
            .arg(&bound),
    )?;
    // wasm-bindgen's declarations of the policy are internal (and `any`-typed);
    // the package declares its own API in server/index.d.ts.
    for file in ["conferbot_server.d.ts", "conferbot_server_bg.wasm.d.ts"] {
        let _ = fs::remove_file(out.join(file));
    }
    let glue = out.join("conferbot_server.js");
    let text = fs::read_to_string(&glue).with_context(|| format!("reading {}", glue.display()))?;
    if !text.contains(DEFAULT_WASM_URL) {
        bail!(
            "{} has no default wasm URL block to remove: did wasm-bindgen's output change?",
            glue.display()
        );
    }
    // Its self-types point at the declarations removed above.
    let edited = text
        .replace(DEFAULT_WASM_URL, "")
        .replace("/* @ts-self-types=\"./conferbot_server.d.ts\" */\n", "");
    if edited.contains("import.meta") {
        bail!(
            "{} still mentions import.meta, which workerd lacks",
            glue.display()
        );
    }
    fs::write(&glue, edited)?;
    Ok(())
}

/// Copies `pkg-template/server/` into `out`, writes the options into its
/// declarations (ESM and CommonJS) and into `options.js` (`handlerOptions`),
/// and the policy's Lua scripts into `lua/` for the Redis store.
pub fn assemble(root: &Path, out: &Path) -> Result<()> {
    let template = root.join("pkg-template").join("server");
    for entry in
        fs::read_dir(&template).with_context(|| format!("reading {}", template.display()))?
    {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            fs::copy(&path, out.join(name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    fs::write(out.join("options.js"), options_module())?;
    let lua = out.join("lua");
    fs::create_dir_all(&lua)?;
    for (name, text) in scripts::ALL {
        fs::write(lua.join(format!("{name}.lua")), text)?;
    }
    let dts = out.join("index.d.ts");
    let text = fs::read_to_string(&dts)?;
    if !text.contains(OPTIONS_MARKER) {
        bail!(
            "{} has no `{OPTIONS_MARKER}`",
            template.join("index.d.ts").display()
        );
    }
    let types = text.replace(OPTIONS_MARKER, &option_declarations());
    fs::write(&dts, &types)?;
    fs::write(
        out.join("index.d.cts"),
        format!("// The server half's types for CommonJS consumers: the same declarations as index.d.ts.\n{types}"),
    )?;
    let redis = fs::read_to_string(out.join("redis.d.ts"))?;
    let esm_import = "from \"./index.js\"";
    if !redis.contains(esm_import) {
        bail!("server/redis.d.ts does not import `./index.js`");
    }
    fs::write(
        out.join("redis.d.cts"),
        format!(
            "// The Redis store's types for CommonJS consumers: the same declarations as redis.d.ts.\n{}",
            redis.replace(esm_import, "from \"./index.cjs\"")
        ),
    )?;
    Ok(())
}

/// `options.js`: the policy's option table as `handlerOptions` (`{name,
/// flag, default, doc}`, `default` absent when it is derived or unset).
pub fn options_module() -> String {
    let rows: Vec<String> = OPTIONS
        .iter()
        .map(|option| {
            let text = |v: &str| serde_json::Value::from(v).to_string();
            let default = option
                .default_json()
                .map(|json| format!(", default: {json}"))
                .unwrap_or_default();
            format!(
                "  {{ name: {}, flag: {}{default}, doc: {} }},",
                text(option.name),
                text(option.flag),
                text(option.doc())
            )
        })
        .collect();
    format!(
        "// The handler's options, written by `cargo xtask dist` from the policy's\n\
         // table (conferbot_policy::server_options): each option's name, the\n\
         // conferbot-bff flag it mirrors, its default and help.\n\
         export const handlerOptions = Object.freeze([\n{}\n].map(Object.freeze));\n",
        rows.join("\n")
    )
}

/// One documented, optional member per option of the policy's table.
pub fn option_declarations() -> String {
    let mut out = String::new();
    for option in &OPTIONS {
        let default = match option.default {
            OptionDefault::FromMount(text)
            | OptionDefault::Budget(text)
            | OptionDefault::OptionalCount(text) => text.to_owned(),
            _ => option.default_json().unwrap_or_default(),
        };
        out.push_str(&format!(
            "  /** {}. Default: `{default}` (conferbot-bff's `--{}`). */\n  {}?: {};\n",
            // The flag's help may say its default in brackets; it is said once here.
            option
                .doc()
                .split(" [default:")
                .next()
                .unwrap_or(option.doc())
                .trim_end_matches('.'),
            option.flag,
            option.name,
            option.ts_type()
        ));
    }
    out.trim_end().to_owned()
}

/// Fails when the server wasm is over its budget; answers its size.
pub fn check_budget(out: &Path) -> Result<u64> {
    let size = fs::metadata(out.join("conferbot_server_bg.wasm"))?.len();
    if size > WASM_BUDGET_BYTES {
        bail!(
            "pkg/server/conferbot_server_bg.wasm is {size} B, over its budget of {WASM_BUDGET_BYTES} B (xtask/src/server_dist.rs)"
        );
    }
    Ok(size)
}

/// `wasm-opt` from npm, after the npm dependencies are installed.
pub fn wasm_opt(root: &Path) -> Result<std::path::PathBuf> {
    tools::wasm_opt(root)
        .context("wasm-opt is missing from node_modules/.bin (npm package binaryen)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_declared_with_its_default() {
        let text = option_declarations();
        assert!(text.contains("  queueWaitMs?: number;"), "{text}");
        assert!(
            text.contains("Default: `10000` (conferbot-bff's `--queue-wait`)"),
            "{text}"
        );
        assert!(text.contains("  allowOrigins?: string[];"), "{text}");
        assert!(
            text.contains("Default: `{mount}/webhooks/incoming`"),
            "{text}"
        );
        assert_eq!(text.matches("?: ").count(), OPTIONS.len());
        assert!(
            text.contains("  monthlyBudget?: number | `${number}%`;"),
            "{text}"
        );
        assert!(
            text.contains("Default: `the plan's monthly limit`"),
            "{text}"
        );
    }

    #[test]
    fn the_options_module_lists_every_option_with_its_default() {
        let module = options_module();
        assert_eq!(module.matches("{ name: ").count(), OPTIONS.len());
        assert!(
            module.contains(r#"{ name: "queueWaitMs", flag: "queue-wait", default: 10000, doc: "#),
            "{module}"
        );
        assert!(
            module.contains(r#"{ name: "monthlyBudget", flag: "monthly-budget", doc: "#),
            "{module}"
        );
        assert!(module.contains("export const handlerOptions = Object.freeze(["));
    }
}
