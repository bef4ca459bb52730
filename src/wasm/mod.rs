//! The wasm32 JS surface (being built).
