//! `ConferbotClient`: one method per operation of the endpoint table.
//!
//! Every method checks its arguments first and rejects with `invalid_request`
//! before anything is sent; then it sends with retries and decodes the answer
//! into the core's typed values.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::endpoint::Operation;
use crate::error::Error;
use crate::pagination::{PageRequest, Paginator};
use crate::shape::{CHATBOT, DELETED_WEBHOOK, USAGE, WEBHOOK};

use super::call_options::CallOptions;
use super::config::ClientConfig;
use super::fetch::{checked_headers, Outgoing};
use super::fields::Fields;
use super::page::{spawn_page, ListKind, ListSource};
use super::{decode, environment, events, inputs, iteration, js_error, retrying};

/// A client of the Conferbot External API, through the BFF or direct.
#[wasm_bindgen]
pub struct ConferbotClient {
    config: Rc<ClientConfig>,
}

/// A checked call, ready to send: operation, URL, body and options.
struct Prepared {
    operation: Operation,
    url: String,
    body: Option<JsValue>,
    call: CallOptions,
}

#[wasm_bindgen]
impl ConferbotClient {
    /// Checks `options` and creates a client; throws a `ConferbotError`
    /// (`invalid_request`) for bad options, and for an `apiKey` in a browser
    /// without `dangerouslyAllowBrowser: true`. Nothing is sent.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "ClientOptions")] options: JsValue,
    ) -> Result<ConferbotClient, JsValue> {
        let read = || {
            let fields = Fields::of(&options, "options")?;
            let config = ClientConfig::from_options(&fields, environment::is_browser())?;
            checked_headers(&config.headers)?;
            Ok(config)
        };
        read()
            .map(|config| Self {
                config: Rc::new(config),
            })
            .map_err(|e: Error| js_error::to_js(&e))
    }

    /// One page of the workspace's chatbots (`page` from 1, `limit` 1 to 100, default 20).
    #[wasm_bindgen(js_name = listChatbots, unchecked_return_type = "Promise<Page<Chatbot>>")]
    pub fn list_chatbots(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.list(Ok(ListKind::Chatbots), &params, &opts)
    }

    /// Every chatbot, fetched lazily one page at a time (`for await`).
    #[wasm_bindgen(unchecked_return_type = "AsyncIterable<Chatbot>")]
    pub fn chatbots(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> JsValue {
        iteration::items(self.list_start(Ok(ListKind::Chatbots), &params, &opts))
    }

    /// The BFF's live events (`GET {baseUrl}/events`), for as long as the
    /// loop runs: reconnects with `Last-Event-ID` after a dropped stream, and
    /// ends without an error when `signal` aborts or the loop is left
    /// (`break`). One subscription per call.
    #[wasm_bindgen(unchecked_return_type = "AsyncIterable<ConferbotEvent>")]
    pub fn events(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "EventOptions")] opts: JsValue,
    ) -> JsValue {
        events::subscribe(&self.config, &opts)
    }

    /// One chatbot.
    #[wasm_bindgen(js_name = getChatbot, unchecked_return_type = "Promise<Chatbot>")]
    pub fn get_chatbot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = inputs::object_id(&id, "chatbot id")
            .and_then(|id| self.prepare(Operation::GetChatbot, &[&id], None, &opts));
        self.spawn(prepared, |body| decode::data(body, &CHATBOT))
    }

    /// One page of a chatbot's responses.
    #[wasm_bindgen(
        js_name = listResponses,
        unchecked_return_type = "Promise<Page<ChatbotResponse>>"
    )]
    pub fn list_responses(
        &self,
        #[wasm_bindgen(js_name = chatbotId, unchecked_param_type = "string")] chatbot_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let list = inputs::object_id(&chatbot_id, "chatbot id").map(ListKind::Responses);
        self.list(list, &params, &opts)
    }

    /// Every response of a chatbot, fetched lazily one page at a time (`for await`).
    #[wasm_bindgen(unchecked_return_type = "AsyncIterable<ChatbotResponse>")]
    pub fn responses(
        &self,
        #[wasm_bindgen(js_name = chatbotId, unchecked_param_type = "string")] chatbot_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> JsValue {
        let list = inputs::object_id(&chatbot_id, "chatbot id").map(ListKind::Responses);
        iteration::items(self.list_start(list, &params, &opts))
    }

    /// This month's usage (`limit`/`remaining` are `null` when unlimited).
    #[wasm_bindgen(js_name = getUsage, unchecked_return_type = "Promise<Usage>")]
    pub fn get_usage(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = self.prepare(Operation::GetUsage, &[], None, &opts);
        self.spawn(prepared, |body| decode::data(body, &USAGE))
    }

    /// The registered webhooks.
    #[wasm_bindgen(js_name = listWebhooks, unchecked_return_type = "Promise<Webhook[]>")]
    pub fn list_webhooks(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = self.prepare(Operation::ListWebhooks, &[], None, &opts);
        self.spawn(prepared, |body| decode::data_list(body, &WEBHOOK))
    }

    /// Registers a webhook; the answer carries its signing `secret`. Never
    /// retried after a network failure or timeout (it may have been created).
    #[wasm_bindgen(js_name = createWebhook, unchecked_return_type = "Promise<Webhook>")]
    pub fn create_webhook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewWebhook")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = inputs::new_webhook_body(&input)
            .and_then(|body| self.prepare(Operation::CreateWebhook, &[], Some(body), &opts));
        self.spawn(prepared, |body| decode::data(body, &WEBHOOK))
    }

    /// Deletes a webhook.
    #[wasm_bindgen(js_name = deleteWebhook, unchecked_return_type = "Promise<void>")]
    pub fn delete_webhook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = inputs::object_id(&id, "webhook id")
            .and_then(|id| self.prepare(Operation::DeleteWebhook, &[&id], None, &opts));
        self.spawn(prepared, deleted)
    }
}

impl ConferbotClient {
    fn prepare(
        &self,
        operation: Operation,
        ids: &[&crate::id::ObjectId],
        body: Option<JsValue>,
        opts: &JsValue,
    ) -> Result<Prepared, Error> {
        Ok(Prepared {
            call: CallOptions::read(opts, &self.config)?,
            url: operation.url(&self.config.base_url, ids, None)?,
            operation,
            body,
        })
    }

    /// Sends a prepared call and decodes its answer with `finish`; a call that
    /// failed its checks rejects at once, without sending.
    fn spawn(
        &self,
        prepared: Result<Prepared, Error>,
        finish: fn(&JsValue) -> Result<JsValue, Error>,
    ) -> Promise {
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return Promise::reject(&js_error::to_js(&error)),
        };
        let config = self.config.clone();
        future_to_promise(async move {
            let outgoing = Outgoing {
                method: prepared.operation.method(),
                url: &prepared.url,
                headers: &config.headers,
                body: prepared.body.as_ref(),
            };
            retrying::send(&outgoing, &prepared.call)
                .await
                .and_then(|body| finish(&body))
                .map_err(|e| js_error::to_js(&e))
        })
    }

    fn list_start(
        &self,
        list: Result<ListKind, Error>,
        params: &JsValue,
        opts: &JsValue,
    ) -> Result<(Rc<ListSource>, Paginator), Error> {
        let list = list?;
        let first: PageRequest = inputs::page_request(params)?;
        let source = ListSource {
            config: self.config.clone(),
            call: CallOptions::read(opts, &self.config)?,
            list,
        };
        Ok((Rc::new(source), Paginator::new(first)))
    }

    fn list(&self, list: Result<ListKind, Error>, params: &JsValue, opts: &JsValue) -> Promise {
        match self.list_start(list, params, opts) {
            Ok((source, paginator)) => spawn_page(source, paginator),
            Err(error) => Promise::reject(&js_error::to_js(&error)),
        }
    }
}

/// A delete's answer: `{"data": {"id", "deleted"}}`, or no body at all (204).
fn deleted(body: &JsValue) -> Result<JsValue, Error> {
    if !body.as_string().unwrap_or_default().trim().is_empty() {
        decode::data(body, &DELETED_WEBHOOK)?;
    }
    Ok(JsValue::UNDEFINED)
}
