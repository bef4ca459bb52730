//! The files generated from the wire schema (`conferbot::shape`): the JS
//! checker the wasm calls once per answer, and the TypeScript interfaces of
//! the package. `cargo xtask dist` writes them before it builds; they are
//! committed, and a native test of the crate fails while they are stale.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::process::say;

/// Writes `src/wasm/js/wire.js` and `src/wasm/wire.d.ts` where they differ
/// from what the tables say.
pub fn write(root: &Path) -> Result<()> {
    let files = [
        ("src/wasm/js/wire.js", conferbot::shape::javascript()),
        ("src/wasm/wire.d.ts", conferbot::shape::typescript()),
    ];
    for (name, text) in files {
        let path = root.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            say(&format!("wrote {name} from the wire schema (src/shape/)"));
        }
    }
    Ok(())
}
