//! `Page<T>`: one page of a list, with `hasNextPage()` and `getNextPage()`.
//!
//! Every page carries the core's [`Paginator`] as it stood after recording
//! that page, so "is there a next page" and "which one" are decided in Rust,
//! the same way for `getNextPage()` and for the async iterators.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::endpoint::Operation;
use crate::error::Error;
use crate::id::ObjectId;
use crate::pagination::{PageRequest, Paginator};
use crate::shape::{CHATBOT, CHATBOT_RESPONSE};
use crate::types::Page;

use super::call_options::CallOptions;
use super::config::ClientConfig;
use super::decode;
use super::fetch::Outgoing;
use super::js_error::to_js;
use super::retrying::send;

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

    fn decode(&self, body: &JsValue) -> Result<(JsValue, Page<()>), Error> {
        match self {
            Self::Chatbots => decode::page(body, &CHATBOT),
            Self::Responses(_) => decode::page(body, &CHATBOT_RESPONSE),
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

/// One page of a list (`Page<T>` in TypeScript).
#[wasm_bindgen(js_name = Page, skip_typescript)]
pub struct ListPage {
    data: JsValue,
    total: Option<u64>,
    page: u32,
    total_pages: Option<u32>,
    paginator: Paginator,
    source: Rc<ListSource>,
}

#[wasm_bindgen(js_class = Page)]
impl ListPage {
    /// The items of this page.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn data(&self) -> JsValue {
        self.data.clone()
    }

    /// Items in the whole list, or `null` when the server did not say.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn total(&self) -> JsValue {
        self.total
            .map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64))
    }

    /// This page's number, from 1 (the server's, else the one asked for).
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Pages in the whole list, or `null` when the server did not say.
    #[wasm_bindgen(getter = totalPages, skip_typescript)]
    pub fn total_pages(&self) -> JsValue {
        self.total_pages.map_or(JsValue::NULL, JsValue::from)
    }

    /// Whether another page follows, as the paginator decides.
    #[wasm_bindgen(js_name = hasNextPage, skip_typescript)]
    pub fn has_next_page(&self) -> bool {
        !self.paginator.is_done()
    }

    /// Fetches the next page (same list, size, signal, timeout and retries);
    /// rejects with `invalid_request` when there is none.
    #[wasm_bindgen(js_name = getNextPage, skip_typescript)]
    pub fn get_next_page(&self) -> Promise {
        spawn_page(self.source.clone(), self.paginator.clone())
    }
}

/// Fetches the page `paginator` asks for next, as a JS promise of a `Page`.
pub(crate) fn spawn_page(source: Rc<ListSource>, paginator: Paginator) -> Promise {
    future_to_promise(async move {
        fetch_page(source, paginator)
            .await
            .map(JsValue::from)
            .map_err(|e| to_js(&e))
    })
}

async fn fetch_page(source: Rc<ListSource>, mut paginator: Paginator) -> Result<ListPage, Error> {
    let request = paginator.next_request().ok_or_else(|| {
        Error::invalid_request("there is no next page; check hasNextPage() before getNextPage()")
    })?;
    let url = source.list.url(&source.config.base_url, request)?;
    let outgoing = Outgoing {
        method: source.list.operation().method(),
        url: &url,
        headers: &source.config.headers,
        body: None,
    };
    let body = send(&outgoing, &source.call).await?;
    let (data, shape) = source.list.decode(&body)?;
    paginator.record(&shape);
    Ok(ListPage {
        data,
        total: shape.total,
        page: shape.page.unwrap_or(request.page()),
        total_pages: shape.total_pages,
        paginator,
        source,
    })
}
