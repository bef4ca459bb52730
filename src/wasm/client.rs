//! `ConferbotClient`: one method per operation of the endpoint table.
//!
//! Every method checks its arguments first and rejects with `invalid_request`
//! before anything is sent; then it sends with retries and decodes the answer
//! into the core's typed values.

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::endpoint::Operation;
use crate::error::Error;
use crate::pagination::{PageRequest, Paginator};
use crate::shape::{Form, CHATBOT, USAGE, WEBHOOK};

use super::call_options::CallOptions;
use super::config::ClientConfig;
use super::fetch::checked_headers;
use super::fields::Fields;
use super::page::{page_promise, spawn_page, ListKind, ListSource};
use super::{calls, environment, events, inputs, iteration, js_error};

/// A client of the Conferbot External API, through the BFF or direct.
#[wasm_bindgen]
pub struct ConferbotClient {
    config: Rc<ClientConfig>,
    /// The options it was made with (a shallow copy), for `withOptions`.
    options: JsValue,
}

/// A checked call, ready to send: operation, URL, body, options, and the
/// form of its answer (`None`: it returns nothing).
struct Prepared {
    operation: Operation,
    url: String,
    body: Option<JsValue>,
    call: CallOptions,
    form: Option<u32>,
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
        let options = Object::assign(&Object::new(), &Object::from(options.clone())).into();
        read()
            .map(|config| Self {
                config: Rc::new(config),
                options,
            })
            .map_err(|e: Error| js_error::to_js(&e))
    }

    /// A new client with the options of this one, `options` over them
    /// (`headers` merged name by name); the same checks as the constructor.
    #[wasm_bindgen(js_name = withOptions)]
    pub fn with_options(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientOptions")] options: JsValue,
    ) -> Result<ConferbotClient, JsValue> {
        Fields::of(&options, "options").map_err(|e| js_error::to_js(&e))?;
        let merged = Object::assign(&Object::new(), &Object::from(self.options.clone()));
        let merged = Object::assign(&merged, &Object::from(options.clone()));
        let headers = |from: &JsValue| {
            Reflect::get(from, &"headers".into())
                .ok()
                .filter(JsValue::is_object)
        };
        if let (Some(mine), Some(theirs)) = (headers(&self.options), headers(&options)) {
            let both = Object::assign(
                &Object::assign(&Object::new(), &mine.into()),
                &theirs.into(),
            );
            let _ = Reflect::set(&merged, &"headers".into(), &both);
        }
        ConferbotClient::new(merged.into())
    }

    /// One page of the workspace's chatbots (`page` from 1, `limit` 1 to 100, default 20).
    /// The promise is also async-iterable over every chatbot of the list
    /// (`for await (const bot of client.listChatbots({ limit: 100 }))`).
    #[wasm_bindgen(js_name = listChatbots, unchecked_return_type = "PagePromise<Chatbot>")]
    pub fn list_chatbots(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        self.list(Ok(ListKind::Chatbots), &params, &opts)
    }

    /// Every chatbot, fetched one page at a time (`for await`), lazily:
    /// nothing is sent until a loop starts, and each loop starts anew.
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
        let prepared = inputs::object_id(&id, "chatbot id").and_then(|id| {
            self.prepare(
                Operation::GetChatbot,
                &[&id],
                None,
                &opts,
                Some(const { Form::Data(&CHATBOT).index() }),
            )
        });
        self.spawn(prepared)
    }

    /// One page of a chatbot's responses.
    #[wasm_bindgen(
        js_name = listResponses,
        unchecked_return_type = "PagePromise<ChatbotResponse>"
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

    /// Every response of a chatbot, one page at a time (`for await`), lazily.
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
        let form = Some(const { Form::Data(&USAGE).index() });
        self.spawn(self.prepare(Operation::GetUsage, &[], None, &opts, form))
    }

    /// The registered webhooks.
    #[wasm_bindgen(js_name = listWebhooks, unchecked_return_type = "Promise<Webhook[]>")]
    pub fn list_webhooks(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let form = Some(const { Form::DataList(&WEBHOOK).index() });
        self.spawn(self.prepare(Operation::ListWebhooks, &[], None, &opts, form))
    }

    /// Registers a webhook; the answer carries its signing `secret`. Never
    /// retried after a network failure or timeout (it may have been created).
    #[wasm_bindgen(js_name = createWebhook, unchecked_return_type = "Promise<Webhook>")]
    pub fn create_webhook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewWebhook")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let form = Some(const { Form::Data(&WEBHOOK).index() });
        let prepared = inputs::new_webhook_body(&input)
            .and_then(|body| self.prepare(Operation::CreateWebhook, &[], Some(body), &opts, form));
        self.spawn(prepared)
    }

    /// Deletes a webhook. Any 2xx answer resolves `undefined`, whatever body
    /// (or none, or `204`) comes with it: the operation returns nothing.
    #[wasm_bindgen(js_name = deleteWebhook, unchecked_return_type = "Promise<void>")]
    pub fn delete_webhook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] opts: JsValue,
    ) -> Promise {
        let prepared = inputs::object_id(&id, "webhook id")
            .and_then(|id| self.prepare(Operation::DeleteWebhook, &[&id], None, &opts, None));
        self.spawn(prepared)
    }
}

impl ConferbotClient {
    fn prepare(
        &self,
        operation: Operation,
        ids: &[&crate::id::ObjectId],
        body: Option<JsValue>,
        opts: &JsValue,
        form: Option<u32>,
    ) -> Result<Prepared, Error> {
        Ok(Prepared {
            call: CallOptions::read(opts, &self.config)?,
            url: operation.url(&self.config.base_url, ids, None)?,
            operation,
            body,
            form,
        })
    }

    /// Sends a prepared call; its answer comes back checked by its form. A
    /// call that failed its checks rejects at once, without sending.
    fn spawn(&self, prepared: Result<Prepared, Error>) -> Promise {
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return Promise::reject(&js_error::to_js(&error)),
        };
        let method = prepared.operation.method();
        let headers = self.config.headers_for(method, prepared.body.is_some());
        calls::send(
            &self.config.judge,
            headers,
            &prepared.call,
            method,
            &prepared.url,
            prepared.body.as_ref(),
            prepared.form,
        )
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
        page_promise(match self.list_start(list, params, opts) {
            Ok((source, paginator)) => spawn_page(source, paginator),
            Err(error) => Promise::reject(&js_error::to_js(&error)),
        })
    }
}
