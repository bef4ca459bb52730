//! [`Policy`]: one handler's decisions and in-process state, driven from JS.
//!
//! A request under the mount goes through [`Policy::api`] in the order the
//! BFF's handler applies its policies: CORS preflight, the allowlist
//! ([`route::target`]), CSRF for writes, the body's size and re-validation,
//! then reads through the cache table (hit, join, or lead) and writes to the
//! upstream. JS makes the call the [`Step`] names, turns the upstream's answer
//! into an [`Outcome`] ([`Policy::check`]), settles the read
//! ([`Policy::settle`]) and sends the [`Reply`] of [`Policy::finish`].

use std::collections::HashMap;

use conferbot::protocol::bff::CSRF_HEADER;
use conferbot_policy::cache_table::{is_cached, CacheTable, Lookup};
use conferbot_policy::event_log::EventLog;
use conferbot_policy::headers::{upstream_call, upstream_headers, CacheStatus};
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::route::{Mounts, Route};
use conferbot_policy::settings::{MAX_ANSWER_BYTES, MAX_BODY_BYTES};
use conferbot_policy::shared_state::keys;
use conferbot_policy::upstream_answer::{self, KeyScanner};
use conferbot_policy::window::{Ticket, Window};
use conferbot_policy::{csrf, route, validate, BffError, RequestHead, Settings};
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::combined_headers::CombinedHeaders;
use crate::cors::Cors;
use crate::options;
use crate::reply::Reply;
use crate::step::{Kind, Step};

/// Why JS could not read a request body: `1` over the limit, `2` unreadable.
pub const BODY_TOO_LARGE: u8 = 1;
/// See [`BODY_TOO_LARGE`].
pub const BODY_UNREADABLE: u8 = 2;

/// One handler's policy and in-process state.
#[wasm_bindgen]
pub struct Policy {
    pub(crate) settings: Settings,
    mounts: Mounts,
    /// Allowed origins, lower case, for CSRF.
    origins: Vec<String>,
    pub(crate) cors: Option<Cors>,
    key: String,
    scanner: KeyScanner,
    pub(crate) secret: Option<Vec<u8>>,
    cache: CacheTable<Outcome, u32>,
    next_handle: u32,
    pub(crate) window: Window,
    pub(crate) tickets: HashMap<u32, Ticket>,
    pub(crate) next_ticket: u32,
    pub(crate) log: EventLog,
}

#[wasm_bindgen]
impl Policy {
    /// A policy for the handler `options`; with `shared` state (a store),
    /// the local cache only joins identical reads (no TTL), as the BFF's
    /// does with Redis. `now_unix_ms` starts the event ids.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, shared: bool, now_unix_ms: f64) -> Result<Policy, JsError> {
        let options::Options {
            settings,
            api_key,
            webhook_secret,
        } = options::read(&options).map_err(|why| JsError::new(&why))?;
        let ttl = if shared {
            std::time::Duration::ZERO
        } else {
            settings.cache_ttl
        };
        Ok(Self {
            mounts: settings.mounts(),
            origins: settings.normalized_origins(),
            cors: Cors::new(&settings.allow_origins),
            scanner: KeyScanner::new(&api_key),
            key: api_key,
            secret: webhook_secret.map(String::into_bytes),
            cache: CacheTable::new(ttl),
            next_handle: 1,
            window: Window::new(settings.rate),
            tickets: HashMap::new(),
            next_ticket: 1,
            log: EventLog::new(settings.event_replay, millis(now_unix_ms)),
            settings,
        })
    }

    /// Which part a raw path is: `api`, `events`, `webhook` or `outside`.
    pub fn route(&self, path: &str) -> String {
        match self.mounts.classify(path) {
            Route::Api => "api",
            Route::Events => "events",
            Route::Webhook => "webhook",
            Route::Outside => "outside",
        }
        .to_owned()
    }

    /// The next step for a request under the mount: its raw `path` and
    /// `query`, whether its target was in absolute form, the headers the
    /// policy reads, its body (or why it could not be read) and the time.
    #[allow(clippy::too_many_arguments)]
    pub fn api(
        &mut self,
        method: &str,
        path: &str,
        query: Option<String>,
        absolute_form: bool,
        csrf_marker: Option<String>,
        origin: Option<String>,
        host: Option<String>,
        body: Option<Vec<u8>>,
        body_problem: u8,
        now: f64,
    ) -> Step {
        if let Some(cors) = self.cors.as_ref().filter(|_| Cors::is_preflight(method)) {
            return Step::reply(Reply::empty(cors.preflight(origin.as_deref())));
        }
        let headers = CombinedHeaders::new([
            (CSRF_HEADER, csrf_marker),
            ("origin", origin.clone()),
            ("host", host),
        ]);
        let head = RequestHead {
            method,
            path,
            query: query.as_deref(),
            absolute_form,
            headers: &headers,
        };
        match self.decide(&head, body, body_problem, millis(now)) {
            Ok(mut step) => {
                if let Some(reply) = step.reply.take() {
                    step.reply = Some(reply.under_mount(self.cors.as_ref(), origin.as_deref()));
                }
                step.origin = origin;
                step
            }
            Err(err) => {
                Step::reply(Reply::error(&err).under_mount(self.cors.as_ref(), origin.as_deref()))
            }
        }
    }

    /// What the policy lets through of an upstream answer: its `status`, its
    /// `Retry-After` header and its whole body.
    pub fn check(&self, status: u16, retry_after: Option<String>, body: Vec<u8>) -> Outcome {
        Outcome::checked(status, retry_after.as_deref(), body, &self.scanner)
    }

    /// An outcome for a failure JS saw: `upstream_timeout`,
    /// `upstream_unreachable`, `too_long`, `cut_off`, `queue_timeout` (with
    /// `retry_after_ms`), `shared_state_unavailable`, or anything else (`500`).
    pub fn failure(&self, kind: &str, retry_after_ms: f64) -> Outcome {
        Outcome(Err(match kind {
            "upstream_timeout" => BffError::UpstreamTimeout,
            "upstream_unreachable" => BffError::UpstreamUnreachable,
            "too_long" => upstream_answer::too_long(),
            "cut_off" => upstream_answer::cut_off(),
            "queue_timeout" => BffError::QueueTimeout {
                retry_after: std::time::Duration::from_millis(millis(retry_after_ms)),
            },
            "shared_state_unavailable" => BffError::SharedStateUnavailable,
            _ => BffError::Internal,
        }))
    }

    /// Ends a led read with `outcome` at `now`: a success is kept for the
    /// TTL, anything else frees the slot.
    pub fn settle(&mut self, step: &Step, outcome: &Outcome, now: f64) {
        if let (Some(target), Some(call)) = (&step.target, step.lead) {
            let answer = outcome.0.is_ok().then_some(outcome);
            self.cache.settle(target, call, answer, millis(now));
        }
    }

    /// The reply for `outcome`, with `x-cache` (`hit`, `miss`, `coalesced`)
    /// for reads, through the mount's layers.
    pub fn finish(&self, step: &Step, outcome: &Outcome, cache: &str) -> Reply {
        let status = CacheStatus::ALL.into_iter().find(|s| s.as_str() == cache);
        Reply::outcome(outcome, status).under_mount(self.cors.as_ref(), step.origin.as_deref())
    }

    /// After a write: when it succeeded, drops the cached reads it makes
    /// stale, and answers what a shared cache must drop as flat pairs
    /// (index key, key prefix, …).
    pub fn wrote(&mut self, step: &Step, outcome: &Outcome) -> Vec<String> {
        match step.target_operation() {
            Some(operation) if outcome.is_success() => {
                self.invalidate(&Invalidation::of_write(operation))
            }
            _ => Vec::new(),
        }
    }

    /// The headers of every upstream request, as flat pairs: `accept`, the
    /// key, and `content-type` when it carries a body.
    #[wasm_bindgen(js_name = upstreamHeaders)]
    pub fn upstream_headers(&self, with_body: bool) -> Vec<String> {
        upstream_headers(&self.key, with_body)
            .into_iter()
            .flat_map(|(n, v)| [n.to_owned(), v.to_owned()])
            .collect()
    }

    /// The `404` for a path outside the mount, as the BFF answers it.
    #[wasm_bindgen(js_name = notFound)]
    pub fn not_found(&self) -> Reply {
        Reply::error(&BffError::NotFound)
    }

    /// The largest request body read (64 KiB).
    #[wasm_bindgen(getter, js_name = maxBodyBytes)]
    pub fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
    }

    /// The largest upstream answer passed on (4 MiB).
    #[wasm_bindgen(getter, js_name = maxAnswerBytes)]
    pub fn max_answer_bytes(&self) -> usize {
        MAX_ANSWER_BYTES
    }

    /// `queueWaitMs`.
    #[wasm_bindgen(getter, js_name = queueWaitMs)]
    pub fn queue_wait_ms(&self) -> f64 {
        self.settings.queue_wait.as_millis() as f64
    }

    /// `upstreamTimeoutMs`.
    #[wasm_bindgen(getter, js_name = upstreamTimeoutMs)]
    pub fn upstream_timeout_ms(&self) -> f64 {
        self.settings.upstream_timeout.as_millis() as f64
    }
}

impl Policy {
    fn decide<H: conferbot_policy::HeaderLookup>(
        &mut self,
        head: &RequestHead<'_, H>,
        body: Option<Vec<u8>>,
        body_problem: u8,
        now: u64,
    ) -> Result<Step, BffError> {
        let target = route::target(&self.settings.mount, head)?;
        if csrf::applies_to(target.operation.method()) {
            csrf::check(head.headers, &self.origins)?;
        }
        match body_problem {
            BODY_TOO_LARGE => return Err(BffError::PayloadTooLarge(MAX_BODY_BYTES)),
            BODY_UNREADABLE => return Err(BffError::BodyUnreadable),
            _ => {}
        }
        let raw = body.unwrap_or_default();
        validate::body_size(raw.len())?;
        let body = validate::request_body(target.operation, &raw)?;
        let call = upstream_call(&self.settings.upstream, &target)?;
        let mut step = Step {
            kind: Kind::Call,
            reply: None,
            target: None,
            call: Some(call),
            body,
            lead: None,
            handle: 0,
            origin: None,
        };
        if is_cached(target.operation) {
            let next = self.next_handle;
            match self.cache.lookup(&target, now, |_| next) {
                Lookup::Hit(outcome) => {
                    return Ok(Step::reply(Reply::outcome(
                        &outcome,
                        Some(CacheStatus::Hit),
                    )));
                }
                Lookup::Joined(handle) => {
                    step.kind = Kind::Join;
                    step.handle = handle;
                    step.call = None;
                }
                Lookup::Led(call, handle) => {
                    self.next_handle = self.next_handle.wrapping_add(1).max(1);
                    step.kind = Kind::Lead;
                    step.handle = handle;
                    step.lead = Some(call);
                }
            }
        }
        step.target = Some(target);
        Ok(step)
    }

    /// Drops what `stale` names here; answers it for a shared cache as flat
    /// pairs (index key, key prefix, …).
    pub(crate) fn invalidate(&mut self, stale: &Invalidation) -> Vec<String> {
        self.cache.invalidate(stale);
        stale
            .key_prefixes()
            .into_iter()
            .flat_map(|(operation, prefix)| [keys::index(operation), prefix])
            .collect()
    }
}

/// A JS time in milliseconds as the policy's `u64`.
pub(crate) fn millis(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    }
}
