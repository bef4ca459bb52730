//! What the JS side does next with a request under the mount, as the policy
//! decided it: send a [`Reply`]; send it and refresh the read in the
//! background (`stale`); make the upstream call and lead the read (`lead`);
//! wait for the read another request leads (`join`); make a write's upstream
//! call (`call`); or first read the month's use (`learn`, then
//! `Policy::proceed`). A step remembers what the rest of the request needs
//! (its target, its cache slot, the requester's `Origin`).

use conferbot::Operation;
use conferbot_policy::cache_table::CallId;
use conferbot_policy::client::ClientId;
use conferbot_policy::headers::UpstreamCall;
use conferbot_policy::{cache_key, Target};
use wasm_bindgen::prelude::*;

use crate::reply::Reply;

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Send the reply; nothing else.
    Reply,
    /// Send the reply (a stale answer), and refresh the read in the
    /// background, then settle it.
    Stale,
    /// Read `getUsage` through the cache first, then proceed.
    Learn,
    /// Call the upstream for this read, then settle it (others join it).
    Lead,
    /// Await the call of the read led under the same handle.
    Join,
    /// Call the upstream for this write.
    Call,
}

/// One request's next move.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Step {
    pub(crate) kind: Kind,
    pub(crate) reply: Option<Reply>,
    pub(crate) target: Option<Target>,
    pub(crate) call: Option<UpstreamCall>,
    pub(crate) body: Option<Vec<u8>>,
    /// The cache slot's call: the lead's, or the background refresh's.
    pub(crate) slot: Option<CallId>,
    pub(crate) handle: u32,
    pub(crate) origin: Option<String>,
    /// Who the request is from (the rate window's fairness, the monthly caps).
    pub(crate) client: ClientId,
}

#[wasm_bindgen]
impl Step {
    /// `reply`, `stale`, `learn`, `lead`, `join` or `call`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        match self.kind {
            Kind::Reply => "reply",
            Kind::Stale => "stale",
            Kind::Learn => "learn",
            Kind::Lead => "lead",
            Kind::Join => "join",
            Kind::Call => "call",
        }
        .to_owned()
    }

    /// A copy, for a call that outlives the request (a background refresh).
    pub fn duplicate(&self) -> Step {
        self.clone()
    }

    /// The reply to send (`reply` and `stale` steps), once.
    #[wasm_bindgen(js_name = takeReply)]
    pub fn take_reply(&mut self) -> Option<Reply> {
        self.reply.take()
    }

    /// Names the read in flight that `lead` starts and `join` awaits.
    #[wasm_bindgen(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The upstream call's method (`lead`, `stale` and `call` steps).
    #[wasm_bindgen(getter)]
    pub fn method(&self) -> Option<String> {
        self.call.as_ref().map(|c| c.method.as_str().to_owned())
    }

    /// The upstream call's whole URL, built from the validated target.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> Option<String> {
        self.call.as_ref().map(|c| c.url.clone())
    }

    /// The re-serialized body of a write that takes one.
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> Option<Vec<u8>> {
        self.body.clone()
    }

    /// The read's shared cache key (`listChatbots::page=1&limit=20`).
    #[wasm_bindgen(getter, js_name = cacheKey)]
    pub fn cache_key(&self) -> Option<String> {
        self.target.as_ref().map(cache_key)
    }
}

impl Step {
    /// A step that only replies.
    pub fn reply(reply: Reply) -> Self {
        Self {
            kind: Kind::Reply,
            reply: Some(reply),
            target: None,
            call: None,
            body: None,
            slot: None,
            handle: 0,
            origin: None,
            client: ClientId::unknown(),
        }
    }

    /// A step that makes `call` (with a write's `body`); a read's turn at
    /// the cache may change it.
    pub fn call(call: UpstreamCall, body: Option<Vec<u8>>) -> Self {
        Self {
            kind: Kind::Call,
            reply: None,
            target: None,
            call: Some(call),
            body,
            slot: None,
            handle: 0,
            origin: None,
            client: ClientId::unknown(),
        }
    }

    /// The operation of the target, if any.
    pub fn target_operation(&self) -> Option<Operation> {
        self.target.as_ref().map(|t| t.operation)
    }
}
