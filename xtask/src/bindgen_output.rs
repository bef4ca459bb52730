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
//!   with an ES module's declarations;
//! - the shipped JS (the glue and its snippets) loses its `/** … */` doc
//!   blocks: wasm-bindgen copies every export's rustdoc into the glue as one,
//!   and the `.d.ts` (what TypeScript and editors read, for JS projects too)
//!   carries the same text. A page loading `/pkg/conferbot.js` unbundled, and
//!   every bundle an application builds without minifying, shipped each doc
//!   twice (1.7 KiB gzip of 11.6, BENCHMARKS.md section 1). The sources keep
//!   their docs; only lines that are wholly a doc block go, and a block of any
//!   other shape fails the build rather than risk cutting code.

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
    let (glue_text, docs) = strip_doc_blocks(&edit_glue(&read(&glue)?, &glue)?)
        .with_context(|| format!("{}: did wasm-bindgen's output change?", glue.display()))?;
    if docs == 0 {
        bail!(
            "{} has no doc blocks left to strip: did wasm-bindgen's output change?",
            glue.display()
        );
    }
    write(&glue, &glue_text)?;
    strip_snippet_docs(&out.join("snippets"))?;
    write_error_module(out)
}

/// Strips the doc blocks of every `.js` under `snippets/` (the copies
/// wasm-bindgen made of `src/wasm/js/`; the sources are untouched).
fn strip_snippet_docs(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            strip_snippet_docs(&path)?;
        } else if path.extension().is_some_and(|ext| ext == "js") {
            let (text, _) = strip_doc_blocks(&read(&path)?)
                .with_context(|| format!("stripping the doc blocks of {}", path.display()))?;
            write(&path, &text)?;
        }
    }
    Ok(())
}

/// `text` without the `/** … */` doc blocks that fill whole lines (one line
/// `/** … */`, or `/**`, lines starting with `*`, and a last one ending in
/// `*/`), and how many there were. Any other shape (code after a block's
/// end, a block line not starting with `*`, a block never closed) is an
/// error: nothing but whole doc lines is ever removed.
fn strip_doc_blocks(text: &str) -> Result<(String, usize)> {
    let mut kept = String::with_capacity(text.len());
    let mut removed = 0;
    let mut open_since: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        let number = index + 1;
        if open_since.is_some() {
            if !trimmed.starts_with('*') {
                bail!("line {number}, inside a doc block, does not start with `*`");
            }
            if trimmed.ends_with("*/") {
                open_since = None;
                removed += 1;
            } else if trimmed.contains("*/") {
                bail!("line {number} has code after the end of a doc block");
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("/**") {
            match rest.find("*/") {
                Some(end) if end + 2 == rest.len() => removed += 1,
                Some(_) => bail!("line {number} has code after a one-line doc block"),
                None => open_since = Some(number),
            }
            continue;
        }
        kept.push_str(line);
    }
    if let Some(line) = open_since {
        bail!("the doc block opened on line {line} is never closed");
    }
    Ok((kept, removed))
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
    fn whole_line_doc_blocks_go_and_code_stays() {
        let text = "/** One line. */\nexport const A = 1;\n  /**\n   * Two\n   * @param {string} x\n   */\n  f(x) { return `/** ${x}`; }\n// kept\n/* kept */\n";
        let (kept, removed) = strip_doc_blocks(text).unwrap();
        assert_eq!(removed, 2);
        assert_eq!(
            kept,
            "export const A = 1;\n  f(x) { return `/** ${x}`; }\n// kept\n/* kept */\n"
        );
    }

    #[test]
    fn doc_blocks_of_another_shape_are_refused() {
        for text in [
            "/** doc */ export const A = 1;\n",
            "/**\n * doc\nexport const A = 1;\n",
            "/**\n * doc */ const A = 1;\n",
            "/**\n * never closed\n",
        ] {
            assert!(strip_doc_blocks(text).is_err(), "{text:?}");
        }
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
