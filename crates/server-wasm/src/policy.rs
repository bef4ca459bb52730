//! [`Policy`]: one handler's decisions and in-process state, driven from JS.
//!
//! A request under the mount goes through [`Policy::api`] in the order the
//! BFF's handler applies its policies: CORS preflight, the allowlist
//! ([`route::target`]), CSRF for writes, the body's size and re-validation,
//! with a `monthlyBudget` or a `refreshBudget` (on by default) the month
//! learned first (a `learn` step: one `getUsage` through the cache, then
//! [`Policy::proceed`]), then reads
//! through the cache table (a fresh hit, a stale answer with maybe its
//! background refresh, a read to join, or one to lead) and writes to the
//! upstream. JS makes the call the [`Step`] names, turns the upstream's
//! answer into an [`Outcome`] ([`Policy::check`]), tells the quota book what
//! it taught ([`Policy::account`]), settles the read ([`Policy::settle`])
//! and sends the [`Reply`] of [`Policy::finish`].

use std::collections::HashMap;

use conferbot::protocol::bff::CSRF_HEADER;
use conferbot::Operation;
use conferbot_policy::cache_table::{is_cached, CacheTable, Freshness};
use conferbot_policy::client::TrustedProxies;
use conferbot_policy::event_log::EventLog;
use conferbot_policy::headers::{upstream_call, upstream_headers, CacheStatus};
use conferbot_policy::host::AllowedHosts;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::quota::QuotaBook;
use conferbot_policy::route::{Mounts, Route};
use conferbot_policy::secret_scan::SecretScanner;
use conferbot_policy::settings::{MAX_ANSWER_BYTES, MAX_BODY_BYTES};
use conferbot_policy::shared_state::wire::SharedQuota;
use conferbot_policy::upstream_answer;
use conferbot_policy::window::{Ticket, Window};
use conferbot_policy::{csrf, route, validate, webhook_target, BffError, RequestHead, Settings};
use wasm_bindgen::prelude::*;

use crate::access::Caller;
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
    pub(crate) key: String,
    /// The key and the webhook secret, found in answers in any spelling.
    scanner: SecretScanner,
    /// The hosts it answers for (`allowHosts`).
    pub(crate) hosts: AllowedHosts,
    /// Whose `X-Forwarded-For` names the client (`trustedProxies`).
    pub(crate) proxies: TrustedProxies,
    pub(crate) secret: Option<Vec<u8>>,
    pub(crate) cache: CacheTable<Outcome, u32>,
    pub(crate) next_handle: u32,
    pub(crate) window: Window,
    pub(crate) tickets: HashMap<u32, Ticket>,
    pub(crate) next_ticket: u32,
    pub(crate) log: EventLog,
    /// The month's book, in this process (without a store).
    pub(crate) book: QuotaBook,
    /// With a store: the shared month and window as last read
    /// (`quota.lua`); `None` until the first read.
    pub(crate) shared: Option<Option<SharedQuota>>,
}

#[wasm_bindgen]
impl Policy {
    /// A policy for the handler `options`; with `shared` state (a store),
    /// the local cache only joins identical reads (no freshness), as the
    /// BFF's does with Redis, and the month's book is the store's.
    /// `now_unix_ms` starts the event ids.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, shared: bool, now_unix_ms: f64) -> Result<Policy, JsError> {
        let options::Options {
            settings,
            api_key,
            webhook_secret,
        } = options::read(&options).map_err(|why| JsError::new(&why))?;
        // Both validated with the settings: these do not fail.
        let hosts =
            AllowedHosts::new(&settings.allow_hosts, None).map_err(|e| JsError::new(&e.0))?;
        let proxies =
            TrustedProxies::parse(&settings.trusted_proxies).map_err(|e| JsError::new(&e.0))?;
        let scanner =
            SecretScanner::new(std::iter::once(api_key.as_str()).chain(webhook_secret.as_deref()));
        let freshness = if shared {
            Freshness {
                fresh: std::time::Duration::ZERO,
                stale: std::time::Duration::ZERO,
            }
        } else {
            settings.freshness()
        };
        Ok(Self {
            mounts: settings.mounts(),
            origins: settings.normalized_origins(),
            cors: Cors::new(&settings.allow_origins),
            scanner,
            hosts,
            proxies,
            key: api_key,
            secret: webhook_secret.map(String::into_bytes),
            cache: CacheTable::new(freshness),
            next_handle: 1,
            window: Window::new(settings.rate, settings.client_share)
                .with_monthly_cap(settings.client_monthly_calls),
            tickets: HashMap::new(),
            next_ticket: 1,
            log: EventLog::new(settings.event_replay, millis(now_unix_ms)),
            book: QuotaBook::default(),
            shared: shared.then_some(None),
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

    /// The next step for a request under the mount (its host allowed,
    /// `Policy::host_refusal`): its raw `path` and `query`, whether its
    /// target was in absolute form, the headers the policy reads, its body
    /// (or why it could not be read), who it is from (`Policy::caller`),
    /// and the time (`now` on the monotonic clock, `wall` Unix ms, in ms).
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
        caller: &Caller,
        now: f64,
        wall: f64,
    ) -> Step {
        if let Some(cors) = self.cors.as_ref().filter(|_| Cors::is_preflight(method)) {
            return Step::reply(Reply::empty(cors.preflight(origin.as_deref())));
        }
        let client = match &caller.0 {
            Ok(client) => client.clone(),
            Err(err) => return Step::reply(self.refused(err, origin.as_deref())),
        };
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
        let mut step = match self.decide(&head, body, body_problem, millis(wall)) {
            Ok(step) => step,
            Err(err) => Step::reply(Reply::error(&err)),
        };
        step.origin = origin;
        step.client = client;
        if step.kind != Kind::Learn {
            self.advance(&mut step, millis(now), millis(wall));
        }
        step
    }

    /// After a `learn` step's `getUsage`: the request's own turn (the read
    /// at the cache, or the write's call).
    pub fn proceed(&mut self, step: &mut Step, now: f64, wall: f64) {
        if step.kind == Kind::Learn {
            step.kind = Kind::Call;
            self.advance(step, millis(now), millis(wall));
        }
    }

    /// What the policy lets through of an upstream answer: its `status`, its
    /// `Retry-After` header, its `Date` header as Unix ms (`Date.parse`; NaN
    /// or absent when there is none), its whole body, and how long the call
    /// waited for the rate window.
    pub fn check(
        &self,
        status: u16,
        retry_after: Option<String>,
        date_ms: Option<f64>,
        body: Vec<u8>,
        queued_ms: f64,
    ) -> Outcome {
        let date = date_ms.filter(|ms| ms.is_finite()).map(|ms| ms as i64);
        let queued = Some(millis(queued_ms));
        let headers = (date, queued);
        Outcome::checked(status, retry_after.as_deref(), body, &self.scanner, headers)
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

    /// The reply for `outcome`, with `x-cache` (`hit`, `miss`, `coalesced`,
    /// `stale`; `""` for writes) and `age` for reads (`age_ms < 0`: none),
    /// through the mount's layers (quota headers, allowlist, CORS).
    pub fn finish(
        &self,
        step: &Step,
        outcome: &Outcome,
        cache: &str,
        age_ms: f64,
        now: f64,
        wall: f64,
    ) -> Reply {
        let status = CacheStatus::ALL.into_iter().find(|s| s.as_str() == cache);
        let age = (age_ms >= 0.0).then(|| millis(age_ms));
        let reply = Reply::outcome(outcome, status, age);
        self.mount_reply(reply, step.origin.as_deref(), millis(now), millis(wall))
    }

    /// After a write: when it succeeded, applies what it makes stale here,
    /// and answers `invalidate.lua`'s keys and arguments for a shared cache
    /// (`undefined` when there is nothing to tell it).
    pub fn wrote(&mut self, step: &Step, outcome: &Outcome) -> Option<js_sys::Object> {
        match step.target_operation() {
            Some(operation) if outcome.is_success() => {
                let change = Invalidation::of_write(operation);
                self.cache.apply(&change);
                self.shared_invalidation(&change)
            }
            _ => None,
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

    /// `authTimeoutMs`: how long the `authorize` hook may take.
    #[wasm_bindgen(getter, js_name = authTimeoutMs)]
    pub fn auth_timeout_ms(&self) -> f64 {
        self.settings.auth_timeout.as_millis() as f64
    }

    /// `upstreamTimeoutMs`.
    #[wasm_bindgen(getter, js_name = upstreamTimeoutMs)]
    pub fn upstream_timeout_ms(&self) -> f64 {
        self.settings.upstream_timeout.as_millis() as f64
    }
}

impl Policy {
    /// Route, CSRF, body; then whether the month must be learned first.
    fn decide<H: conferbot_policy::HeaderLookup>(
        &mut self,
        head: &RequestHead<'_, H>,
        body: Option<Vec<u8>>,
        body_problem: u8,
        wall: u64,
    ) -> Result<Step, BffError> {
        let target = route::target(&self.settings.mount, head)?;
        if csrf::applies_to(target.operation.method()) {
            csrf::check(head.headers, &self.origins, &self.hosts)?;
        }
        match body_problem {
            BODY_TOO_LARGE => return Err(BffError::PayloadTooLarge(MAX_BODY_BYTES)),
            BODY_UNREADABLE => return Err(BffError::BodyUnreadable),
            _ => {}
        }
        let raw = body.unwrap_or_default();
        validate::body_size(raw.len())?;
        // The webhook-target rules over JS's own URL parser (`js_url`).
        let allow_local = self.settings.allow_local_webhooks;
        let body = validate::request_body_with(target.operation, &raw, |url| {
            let parsed = crate::js_url::parse(url);
            let parts = parsed.as_ref().map(|(s, h)| (s.as_str(), h.as_str()));
            webhook_target::check_parsed(parts, allow_local)
        })?;
        let call = upstream_call(&self.settings.upstream, &target)?;
        let mut step = Step::call(call, body);
        // A budget needs the month's use: one getUsage, cached like any read.
        if target.operation != Operation::GetUsage && self.needs_learning(wall) {
            step.kind = Kind::Learn;
        }
        step.target = Some(target);
        Ok(step)
    }

    /// A read's turn at the cache; a reply through the mount's layers.
    fn advance(&mut self, step: &mut Step, now: u64, wall: u64) {
        if step.kind == Kind::Call {
            if let Some(target) = step.target.clone().filter(|t| is_cached(t.operation)) {
                self.look_up(step, target, now, wall);
            }
        }
        if let Some(reply) = step.reply.take() {
            let origin = step.origin.clone();
            step.reply = Some(self.mount_reply(reply, origin.as_deref(), now, wall));
        }
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
