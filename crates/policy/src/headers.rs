//! Header hygiene in both directions.
//!
//! **Upstream:** requests are built from scratch ([`upstream_call`],
//! [`upstream_headers`]): `accept`, `content-type` for bodies, and the key.
//! No browser header is ever copied, so cookies, `authorization`, a
//! browser-sent `x-api-key` or `x-forwarded-*` never reach the upstream.
//!
//! **Back to the browser:** answers are rebuilt, not relayed
//! ([`answer_headers`]: `content-type`, `retry-after`, `x-cache`, `age`;
//! the quota headers of [`crate::quota_headers`]), and every
//! response under the mount is filtered through the [`RESPONSE_ALLOWLIST`]
//! as a second line of defence, then marked with [`ALWAYS`].

use conferbot::protocol::bff::{
    AGE_HEADER, CACHE_HEADER, CSRF_HEADER, MINUTE_LIMIT_HEADER, MINUTE_REMAINING_HEADER,
    MINUTE_RESET_HEADER, MONTH_LIMIT_HEADER, MONTH_REMAINING_HEADER, MONTH_RESET_HEADER,
    MONTH_USED_HEADER, QUEUED_MS_HEADER,
};
use conferbot::{Method, ObjectId, API_KEY_HEADER};

use crate::error::BffError;
use crate::route::Target;

/// The content type of every JSON answer and every upstream request body.
pub const JSON: &str = "application/json";

/// Response headers that may reach the browser from under the mount. CORS
/// headers are added outside this filter, by the CORS layer.
pub const RESPONSE_ALLOWLIST: [&str; 17] = [
    "content-type",
    "content-length",
    "retry-after",
    "allow",
    CACHE_HEADER,
    AGE_HEADER,
    MINUTE_LIMIT_HEADER,
    MINUTE_REMAINING_HEADER,
    MINUTE_RESET_HEADER,
    MONTH_LIMIT_HEADER,
    MONTH_USED_HEADER,
    MONTH_REMAINING_HEADER,
    MONTH_RESET_HEADER,
    QUEUED_MS_HEADER,
    "x-content-type-options",
    "cache-control",
    // SSE: tells buffering proxies (nginx) to pass events on at once.
    "x-accel-buffering",
];

/// Set on every response under the mount: not sniffable, not for shared caches.
pub const ALWAYS: [(&str, &str); 2] = [
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
];

/// Whether the response header `name` (lower case) may reach the browser.
pub fn allowed(name: &str) -> bool {
    RESPONSE_ALLOWLIST.contains(&name)
}

/// Methods CORS allows for `--allow-origin` origins.
pub const CORS_ALLOW_METHODS: [Method; 3] = [Method::Get, Method::Post, Method::Delete];
/// Request headers CORS allows: the body's type and the CSRF marker.
pub const CORS_ALLOW_HEADERS: [&str; 2] = ["content-type", CSRF_HEADER];
/// Response headers CORS lets pages read: what answers say of themselves and
/// of the quota.
pub const CORS_EXPOSE_HEADERS: [&str; 11] = [
    "retry-after",
    CACHE_HEADER,
    AGE_HEADER,
    MINUTE_LIMIT_HEADER,
    MINUTE_REMAINING_HEADER,
    MINUTE_RESET_HEADER,
    MONTH_LIMIT_HEADER,
    MONTH_USED_HEADER,
    MONTH_REMAINING_HEADER,
    MONTH_RESET_HEADER,
    QUEUED_MS_HEADER,
];

/// How a GET answer was obtained, as the `x-cache` header says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheStatus {
    /// Served from the cache: no upstream call.
    Hit,
    /// This request made the upstream call.
    Miss,
    /// Shared the answer of an identical request already in flight.
    Coalesced,
    /// Served from the cache past its freshness, or after a change or a
    /// failed call, while it is (or cannot be) read again: no call for this
    /// request; `age` says how old.
    Stale,
}

impl CacheStatus {
    /// Every status, in the order metrics list them.
    pub const ALL: [CacheStatus; 4] = [Self::Hit, Self::Miss, Self::Coalesced, Self::Stale];

    /// The `x-cache` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Coalesced => "coalesced",
            Self::Stale => "stale",
        }
    }
}

/// The headers of an answer relayed from the upstream (or the cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerHeaders {
    /// Always JSON: bodies are checked to be.
    pub content_type: &'static str,
    /// `Retry-After` in seconds, when the upstream sent one.
    pub retry_after: Option<u64>,
    /// `x-cache`, for reads.
    pub cache: Option<CacheStatus>,
    /// `age` in whole seconds, for answers from the cache.
    pub age: Option<u64>,
}

impl AnswerHeaders {
    /// As name/value pairs.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("content-type", self.content_type.to_owned())];
        if let Some(secs) = self.retry_after {
            pairs.push(("retry-after", secs.to_string()));
        }
        if let Some(cache) = self.cache {
            pairs.push((CACHE_HEADER, cache.as_str().to_owned()));
        }
        if let Some(age) = self.age {
            pairs.push((AGE_HEADER, age.to_string()));
        }
        pairs
    }
}

/// The headers of a relayed answer: nothing of the upstream's but its
/// `Retry-After`; `age_ms` since it was fetched, for answers from the cache
/// (`age` is in whole seconds, rounded down, as HTTP writes it).
pub fn answer_headers(
    retry_after: Option<u64>,
    cache: Option<CacheStatus>,
    age_ms: Option<u64>,
) -> AnswerHeaders {
    AnswerHeaders {
        content_type: JSON,
        retry_after,
        cache,
        age: age_ms.map(|ms| ms / 1_000),
    }
}

/// One call to the upstream: the method and the whole URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamCall {
    /// The operation's method.
    pub method: Method,
    /// `{base}/external/v1/...`, with the canonical page for paginated reads.
    pub url: String,
}

/// The upstream call for `target` against the API at `base`.
pub fn upstream_call(base: &str, target: &Target) -> Result<UpstreamCall, BffError> {
    let ids: Vec<&ObjectId> = target.ids.iter().collect();
    let url = target
        .operation
        .url(base, &ids, target.page)
        .map_err(|_| BffError::Internal)?;
    Ok(UpstreamCall {
        method: target.operation.method(),
        url,
    })
}

/// Every header of an upstream request, and nothing else: `accept`, the
/// `key`, and `content-type` when it carries a body. (Servers should mark the
/// key's value sensitive, so HTTP tooling never logs it.)
pub fn upstream_headers(key: &str, with_body: bool) -> Vec<(&'static str, &str)> {
    let mut headers = vec![("accept", JSON), (API_KEY_HEADER, key)];
    if with_body {
        headers.push(("content-type", JSON));
    }
    headers
}

#[cfg(test)]
mod tests {
    use conferbot::{Operation, PageRequest};

    use super::*;

    #[test]
    fn only_allowlisted_headers_leave() {
        for name in ["content-type", "retry-after", "x-cache", "allow"] {
            assert!(allowed(name), "{name}");
        }
        for name in [
            "set-cookie",
            "server",
            "x-api-key",
            "x-powered-by",
            "access-control-allow-origin",
        ] {
            assert!(!allowed(name), "{name}");
        }
        assert!(ALWAYS.iter().all(|(name, _)| allowed(name)));
    }

    #[test]
    fn rebuilds_answers_with_json_type_retry_after_and_x_cache() {
        let pairs = answer_headers(Some(60), Some(CacheStatus::Miss), None).pairs();
        assert_eq!(
            pairs,
            vec![
                ("content-type", "application/json".to_owned()),
                ("retry-after", "60".to_owned()),
                ("x-cache", "miss".to_owned()),
            ]
        );
        assert_eq!(answer_headers(None, None, None).pairs().len(), 1);
        let stale = answer_headers(None, Some(CacheStatus::Stale), Some(61_999)).pairs();
        assert_eq!(stale[1], ("x-cache", "stale".to_owned()));
        assert_eq!(stale[2], ("age", "61".to_owned()));
        for name in conferbot::protocol::bff::QUOTA_HEADERS {
            assert!(
                allowed(name) && CORS_EXPOSE_HEADERS.contains(&name),
                "{name}"
            );
        }
    }

    #[test]
    fn upstream_requests_carry_our_headers_only() {
        let target = Target {
            operation: Operation::ListChatbots,
            ids: vec![],
            page: Some(PageRequest::default()),
        };
        let call = upstream_call("http://127.0.0.1:9/api/v1/", &target).unwrap();
        assert_eq!(call.method, Method::Get);
        assert_eq!(
            call.url,
            "http://127.0.0.1:9/api/v1/external/v1/chatbots?page=1&limit=20"
        );
        assert_eq!(
            upstream_headers("sk-key", false),
            vec![("accept", "application/json"), ("x-api-key", "sk-key")]
        );
        assert_eq!(
            upstream_headers("sk-key", true)[2],
            ("content-type", "application/json")
        );
        let broken = Target {
            operation: Operation::GetChatbot,
            ids: vec![],
            page: None,
        };
        assert_eq!(upstream_call("http://x", &broken), Err(BffError::Internal));
    }
}
