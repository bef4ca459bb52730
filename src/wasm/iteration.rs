//! `for await (const item of client.chatbots())`: every item of a list, one
//! page at a time, in order, lazily (nothing is sent before a loop starts).
//!
//! The walk itself is JS (`pageItems` and `Page` in `js/calls.js`: only
//! JS can define `Symbol.asyncIterator`); it asks Rust for the first page,
//! then follows `hasNextPage()` / `getNextPage()`, so the paginator decides.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::pagination::Paginator;

use super::js_error::to_js;
use super::page::{spawn_page, ListSource};

#[wasm_bindgen(module = "/src/wasm/js/calls.js")]
extern "C" {
    #[wasm_bindgen(js_name = pageItems)]
    fn page_items(first_page: JsValue) -> JsValue;
}

/// Where a list starts, or why it cannot start (bad params reject the first
/// `next()`, and nothing is sent).
#[wasm_bindgen(skip_typescript)]
pub struct FirstPage {
    start: Result<(Rc<ListSource>, Paginator), Error>,
}

#[wasm_bindgen]
impl FirstPage {
    /// Fetches the first page; each `for await` loop starts here anew.
    #[wasm_bindgen(skip_typescript)]
    pub fn fetch(&self) -> Promise {
        match &self.start {
            Ok((source, paginator)) => spawn_page(source.clone(), paginator.clone()),
            Err(error) => Promise::reject(&to_js(error)),
        }
    }
}

/// An `AsyncIterable` over every item of the list `start` describes.
pub(crate) fn items(start: Result<(Rc<ListSource>, Paginator), Error>) -> JsValue {
    page_items(FirstPage { start }.into())
}
