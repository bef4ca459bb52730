//! What `cargo xtask dist` changes in wasm-bindgen's output before it ships,
//! each edit checked, so a change in wasm-bindgen fails the build loudly
//! instead of shipping something the package's tests never saw.
//!
//! - the glue's `.d.ts` loses its init declarations (typed with `any`; the
//!   entry points do the init) and its `[Symbol.dispose]()` members, which
//!   need `lib: esnext.disposable`: without them the types check under any
//!   target from ES2020 with no `skipLibCheck` (the classes still get
//!   `Symbol.dispose` at run time wherever the platform has it);
//! - the glue's default wasm location, `new URL(…, import.meta.url)`, goes:
//!   every entry point passes the wasm, and an `import.meta` left in the glue
//!   breaks workerd (no `import.meta.url`) and warns in iife bundles;
//! - `conferbot_error.js` re-exports the error class from its snippet, so the
//!   `init` entry can export `ConferbotError` before the wasm is loaded;
//! - `conferbot_facts.js` re-exports the protocol facts (`PLANS`,
//!   `MAX_LIMIT`, …) from the generated `wire.js` snippet, for every entry,
//!   the wasm loaded or not;
//! - `index.d.cts`: the same declarations for CommonJS consumers, whose
//!   `require("conferbot-wasm")` TypeScript (`module: node16`) will not type
//!   with an ES module's declarations.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Where the glue puts the user-invisible init API (from here to the end).
const INIT_TYPES_MARKER: &str = "export type InitInput";

/// The members that need `lib: esnext.disposable`.
const DISPOSE_MEMBER: &str = "[Symbol.dispose](): void;";

/// The glue's fallback when init is called without a wasm location.
const DEFAULT_WASM_URL: &str = "    if (module_or_path === undefined) {
        module_or_path = new URL('conferbot_bg.wasm', import.meta.url);
    }
";

/// Where wasm-bindgen copies `src/wasm/js/conferbot_error.js`, under `snippets/<crate-hash>/`.
const ERROR_SNIPPET: &str = "src/wasm/js/conferbot_error.js";

/// The snippet generated from the wire schema (`conferbot::shape`), which
/// also carries the protocol facts the package exports.
const WIRE_SNIPPET: &str = "src/wasm/js/wire.js";

/// What `wire.js` exports for the package's users.
const FACTS: &str = "PLANS, DEFAULT_LIMIT, MAX_LIMIT, WEBHOOK_EVENTS, RESYNC_EVENT, planFacts";

/// Applies every edit to the bound output in `out`.
pub fn edit(out: &Path) -> Result<()> {
    let dts = out.join("conferbot.d.ts");
    let types = edit_types(&read(&dts)?, &dts)?;
    write(&dts, &types)?;
    write(
        &out.join("index.d.cts"),
        &format!(
            "// The package's types for CommonJS consumers (`require`): the same declarations as conferbot.d.ts.\n{types}"
        ),
    )?;
    let glue = out.join("conferbot.js");
    write(&glue, &edit_glue(&read(&glue)?, &glue)?)?;
    write_error_module(out)
}

fn edit_types(text: &str, path: &Path) -> Result<String> {
    let Some(at) = text.find(INIT_TYPES_MARKER) else {
        bail!(
            "{} has no `{INIT_TYPES_MARKER}`: did wasm-bindgen's output change?",
            path.display()
        );
    };
    let kept: Vec<&str> = text[..at]
        .trim_end()
        .lines()
        .filter(|line| line.trim() != DISPOSE_MEMBER)
        .collect();
    Ok(format!("{}\n", kept.join("\n")))
}

fn edit_glue(text: &str, path: &Path) -> Result<String> {
    if !text.contains(DEFAULT_WASM_URL) {
        bail!(
            "{} has no default wasm URL block to remove: did wasm-bindgen's output change?",
            path.display()
        );
    }
    let edited = text.replace(DEFAULT_WASM_URL, "");
    if edited.contains("import.meta") {
        bail!(
            "{} still mentions import.meta, which workerd and iife bundles lack",
            path.display()
        );
    }
    Ok(edited)
}

/// `conferbot_error.js`: the error class, importable without the wasm.
fn write_error_module(out: &Path) -> Result<()> {
    let snippets = out.join("snippets");
    let mut found = Vec::new();
    for entry in
        fs::read_dir(&snippets).with_context(|| format!("reading {}", snippets.display()))?
    {
        let dir = entry?.path();
        if dir.join(ERROR_SNIPPET).exists() {
            if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
                found.push(name.to_owned());
            }
        }
    }
    let [crate_dir] = found.as_slice() else {
        bail!(
            "expected one {ERROR_SNIPPET} under {}, found {}",
            snippets.display(),
            found.len()
        );
    };
    write(
        &out.join("conferbot_error.js"),
        &format!(
            "// The error class, importable before the wasm is loaded (the `init` entry needs it).\n\
             export {{ ConferbotError }} from \"./snippets/{crate_dir}/{ERROR_SNIPPET}\";\n"
        ),
    )?;
    if !snippets.join(crate_dir).join(WIRE_SNIPPET).exists() {
        bail!("{WIRE_SNIPPET} is missing from {}", snippets.display());
    }
    write(
        &out.join("conferbot_facts.js"),
        &format!(
            "// The protocol facts, written from the Rust tables (src/shape/javascript.rs); no wasm needed.\n\
             export {{ {FACTS} }} from \"./snippets/{crate_dir}/{WIRE_SNIPPET}\";\n"
        ),
    )
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_lose_init_declarations_and_dispose_members() {
        let text = "export class A {\n    free(): void;\n    [Symbol.dispose](): void;\n}\nexport type InitInput = any;\n";
        let edited = edit_types(text, Path::new("x.d.ts")).unwrap();
        assert_eq!(edited, "export class A {\n    free(): void;\n}\n");
    }

    #[test]
    fn glue_loses_its_import_meta_default() {
        let text = format!("a\n{DEFAULT_WASM_URL}b\n");
        assert_eq!(edit_glue(&text, Path::new("x.js")).unwrap(), "a\nb\n");
        assert!(edit_glue("a\n", Path::new("x.js")).is_err());
        let stray = format!("{DEFAULT_WASM_URL}import.meta.url");
        assert!(edit_glue(&stray, Path::new("x.js")).is_err());
    }
}
