//! The wasm32 JS surface: `ConferbotClient`, `ConferbotError`, `Page<T>`,
//! async iteration over lists and over the BFF's live events, and
//! `verifyWebhookSignature`.
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
//! - `fetch`: one HTTP attempt with its timeout and the caller's signal.
//! - `retrying`: the retry loop (policy from the core) with abortable waits.
//! - `decode`: bodies through `JSON.parse` and the core's shape checker into
//!   plain JS objects.
//! - `json_tree`: `JsValue` as the checker's `JsonTree`.
//! - `page`: the exported `Page` (`hasNextPage()` / `getNextPage()`).
//! - `events`: `client.events()`, the BFF's live events over a streaming
//!   `fetch`, parsed by the core's SSE parser, reconnecting with `Last-Event-ID`.
//! - `iteration`: `for await` over every item of a list, one page at a time.
//! - `js_error`: core errors as JS `ConferbotError`s.
//! - `signature`: `verifyWebhookSignature` from JS values.
//! - `typescript`: the TypeScript interfaces of the package (`types.d.ts`).
//! - `js/`: the small JS snippets wasm-bindgen ships beside the glue
//!   (`conferbot_error.js`, `attempt.js`, `iterators.js`).

mod allocator;
mod call_options;
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
mod json_tree;
mod page;
mod retrying;
mod signature;
mod typescript;

pub use client::ConferbotClient;
pub use events::EventStream;
pub use iteration::FirstPage;
pub use js_error::conferbot_error_class;
pub use page::ListPage;
pub use signature::verify_webhook_signature_js;
pub use typescript::TYPESCRIPT;
