//! The module's global allocator: talc, as in the client's wasm (smaller than
//! the standard library's dlmalloc; the module is single-threaded).

/// The allocator every `Box`, `Vec` and `String` of the module uses.
#[global_allocator]
static ALLOCATOR: talc::TalckWasm = {
    // SAFETY: `new_global` claims the wasm linear memory beyond the data
    // segments; it must back exactly one global allocator, and this is it.
    unsafe { talc::TalckWasm::new_global() }
};
