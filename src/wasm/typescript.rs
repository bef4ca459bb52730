//! The TypeScript interfaces of the package, appended to the generated
//! `.d.ts` so that every public signature is precise (no `any`): the wire
//! types, generated from [`crate::shape`] into `wire.d.ts`, and the
//! hand-written rest (`types.d.ts`).
//!
//! The exported methods point at these names with `unchecked_return_type` and
//! `unchecked_param_type`; a wasm test checks that the unions list exactly the
//! core's error kinds, plans and webhook events.

use wasm_bindgen::prelude::*;

/// The package's TypeScript: the generated `wire.d.ts`, then `types.d.ts`.
pub const TYPESCRIPT: &str = concat!(include_str!("wire.d.ts"), include_str!("types.d.ts"));

#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT_SECTION: &str = TYPESCRIPT;
