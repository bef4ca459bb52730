//! `Page<T>`: one page of a list, with `hasNextPage()`, `getNextPage()`,
//! `iterPages()` and `for await` over its items and every later page's.
//!
//! The page object is plain JS (`Page` in `js/calls.js`: its fields are
//! plain properties, read without a call into wasm); what it cannot decide
//! alone lives in its [`PageCursor`]: the core's [`Paginator`] as it stood
//! after recording that page, so "is there a next page" and "which one" are
//! decided in Rust, the same way for `getNextPage()` and for the iterators.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::endpoint::Operation;
use crate::error::Error;
use crate::id::ObjectId;
use crate::pagination::{PageRequest, Paginator};
use crate::shape::{Form, CHATBOT, CHATBOT_RESPONSE};
use crate::types::Page;

use super::call_options::CallOptions;
use super::calls::send_page;
use super::config::ClientConfig;
use super::js_error::to_js;

#[wasm_bindgen(module = "/src/wasm/js/calls.js")]
extern "C" {
    /// See `js/calls.js`: `promise` (of a `Page`), also async-iterable
    /// over every item of the list.
    #[wasm_bindgen(js_name = pagePromise)]
    pub(crate) fn page_promise(promise: Promise) -> Promise;
}

/// Which list: the workspace's chatbots, or one chatbot's responses.
#[derive(Debug, Clone)]
pub(crate) enum ListKind {
    /// `listChatbots`.
    Chatbots,
    /// `listResponses` of this chatbot.
    Responses(ObjectId),
}

impl ListKind {
    fn operation(&self) -> Operation {
        match self {
            Self::Chatbots => Operation::ListChatbots,
            Self::Responses(_) => Operation::ListResponses,
        }
    }

    fn url(&self, base: &str, request: PageRequest) -> Result<String, Error> {
        let ids = match self {
            Self::Chatbots => vec![],
            Self::Responses(bot) => vec![bot],
        };
        self.operation().url(base, &ids, Some(request))
    }

    /// The checker of its pages ([`Form::index`], made at compile time).
    fn form(&self) -> u32 {
        match self {
            Self::Chatbots => const { Form::Page(&CHATBOT).index() },
            Self::Responses(_) => const { Form::Page(&CHATBOT_RESPONSE).index() },
        }
    }
}

/// Everything needed to fetch any page of one list.
#[derive(Debug)]
pub(crate) struct ListSource {
    /// The client's settings.
    pub config: Rc<ClientConfig>,
    /// The call's signal, timeout and retries, kept for every later page.
    pub call: CallOptions,
    /// Which list.
    pub list: ListKind,
}

/// Where a page stands in its list: the JS `Page`'s link to the paginator.
#[wasm_bindgen(skip_typescript)]
pub struct PageCursor {
    paginator: Paginator,
    request: PageRequest,
    source: Rc<ListSource>,
}

#[wasm_bindgen]
impl PageCursor {
    /// Whether another page follows, as the paginator decides.
    #[wasm_bindgen(js_name = hasNext, skip_typescript)]
    pub fn has_next(&self) -> bool {
        !self.paginator.is_done()
    }

    /// Fetches the next page (same list, size, signal, timeout and retries);
    /// rejects with `invalid_request` when there is none.
    #[wasm_bindgen(skip_typescript)]
    pub fn next(&self) -> Promise {
        spawn_page(self.source.clone(), self.paginator.clone())
    }

    /// Records the answered page (its item count, and the server's `total`,
    /// `page` and `totalPages`, `-1` when absent; the checker has checked
    /// them) in the paginator; answers the page's number.
    #[wasm_bindgen(skip_typescript)]
    pub fn record(&mut self, count: u32, total: f64, page: f64, total_pages: f64) -> u32 {
        let known = |n: f64| (n >= 0.0).then_some(n);
        let shape = Page {
            data: vec![(); count as usize],
            total: known(total).map(|n| n as u64),
            page: known(page).map(|n| n as u32),
            total_pages: known(total_pages).map(|n| n as u32),
        };
        self.paginator.record(&shape);
        shape.page.unwrap_or(self.request.page())
    }
}

/// Fetches the page `paginator` asks for next, as a JS promise of a `Page`.
pub(crate) fn spawn_page(source: Rc<ListSource>, paginator: Paginator) -> Promise {
    let Some(request) = paginator.next_request() else {
        return Promise::reject(&to_js(&Error::invalid_request(
            "there is no next page; check hasNextPage() before getNextPage()",
        )));
    };
    let url = match source.list.url(&source.config.base_url, request) {
        Ok(url) => url,
        Err(error) => return Promise::reject(&to_js(&error)),
    };
    let config = source.config.clone();
    let form = source.list.form();
    let headers = config.headers_for(source.list.operation().method(), false);
    let call = source.call.clone();
    let cursor = PageCursor {
        paginator,
        request,
        source,
    };
    send_page(cursor, &config.judge, headers, &call, &url, form)
}
