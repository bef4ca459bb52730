//! The wasm module's global allocator: talc instead of the standard library's
//! dlmalloc.
//!
//! Measured with `cargo xtask dist`: about 4.5 KiB less wasm (1.8 KiB gzip),
//! for the same job. The module is single-threaded, which is what
//! `TalckWasm` (talc with a no-op lock, growing linear memory on demand) is
//! made for.

/// The allocator every `Box`, `Vec` and `String` of the module uses.
#[global_allocator]
static ALLOCATOR: talc::TalckWasm = {
    // SAFETY: `new_global` claims the wasm linear memory beyond the data
    // segments; it must back exactly one global allocator, and this is it.
    unsafe { talc::TalckWasm::new_global() }
};
