// The package's types: the client, the error class and the data interfaces,
// all generated from the Rust sources into conferbot.d.ts.
export * from "./conferbot.js";
