//! The wasm32 JS surface: `ConferbotClient`, `ConferbotError`, `Page<T>`,
//! async iteration over lists and over the BFF's live events.
//! (`verifyWebhookSignature` is the server half's, `conferbot-wasm/server`:
//! a page must never hold a webhook's secret, so its HMAC code stays out of
//! the browser's bytes.)
//!
//! A thin layer over the pure core: URLs come from [`crate::Operation::url`],
//! page decisions from [`crate::Paginator`], retry decisions from
//! [`crate::RetryPolicy`], validation from the core's parsers. What lives here
//! is only what needs JS: reading option objects, `fetch`, timers, abort
//! signals, and turning typed values and errors into JS values.
//!
//! # Layout
//! - `allocator`: the module's global allocator (talc: smaller than dlmalloc).
//! - `client`: the exported `ConferbotClient` class, one method per operation.
//! - `config`: the client's settings from `ClientOptions` (BFF or direct mode,
//!   base URL defaults, headers, and the refusal of keys in browsers).
//! - `fields`: reading fields of JS option objects, with typed errors.
//! - `call_options`: per-call `RequestOptions` over the client's defaults.
//! - `inputs`: list params, ids and `NewWebhook` from JS values.
//! - `environment`: whether the code runs in a browser.
//! - `fetch`: one HTTP attempt with its timeout and the caller's signal, its
//!   answer checked in JS by the generated checker, its failures typed.
//! - `calls`: a call driven by JS (`send` in `js/calls.js`: attempts,
//!   abortable waits), its retries decided by the core's policy here.
//! - `decode`: live events and error bodies through the generated checker.
//! - `page`: `Page` (plain JS, `hasNextPage()` / `getNextPage()` /
//!   `iterPages()`) and its Rust `PageCursor`; list calls' `PagePromise`.
//! - `events`: `client.events()`, the BFF's live events over a streaming
//!   `fetch`, parsed by the core's SSE parser, reconnecting with `Last-Event-ID`.
//! - `iteration`: `for await` over every item of a list, one page at a time.
//! - `js_error`: core errors as JS `ConferbotError`s.
//! - `typescript`: the TypeScript of the package: `wire.d.ts` (generated from
//!   [`crate::shape`]) and `types.d.ts` (options, pages, the error class).
//! - `js/`: the small JS snippets wasm-bindgen ships beside the glue
//!   (`conferbot_error.js`, `calls.js`, and `wire.js`,
//!   generated from [`crate::shape`]).

mod allocator;
mod call_options;
mod calls;
mod client;
mod config;
mod decode;
mod environment;
mod events;
mod fetch;
mod fields;
mod inputs;
mod iteration;
mod js_error;
mod page;
mod typescript;

pub use calls::CallPolicy;
pub use client::ConferbotClient;
pub use decode::{check_answer, check_event, error_body};
pub use events::EventStream;
pub use iteration::FirstPage;
pub use js_error::conferbot_error_class;
pub use page::PageCursor;
pub use typescript::TYPESCRIPT;
