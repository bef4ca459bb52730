//! Header hygiene on the way back to the browser.
//!
//! Upstream answers are rebuilt, not relayed: status, JSON body, and only
//! `content-type`, `retry-after` and our `x-cache`. As a second line of
//! defence, [`retain_allowed`] runs over every response under the mount and
//! drops any header not on the allowlist (a `set-cookie` or `server` added by
//! some layer or future change never reaches the browser).

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::metrics::CacheStatus;
use crate::upstream::UpstreamAnswer;

/// How the BFF says whether an answer came from its cache.
pub const X_CACHE: &str = "x-cache";

/// Response headers that may reach the browser from under the mount. CORS
/// headers are added outside this filter, by the CORS layer.
const ALLOWED: [&str; 8] = [
    "content-type",
    "content-length",
    "retry-after",
    "allow",
    X_CACHE,
    "x-content-type-options",
    "cache-control",
    // SSE: tells buffering proxies (nginx) to pass events on at once.
    "x-accel-buffering",
];

/// The browser's response for an upstream answer.
pub fn answer_response(answer: &UpstreamAnswer, cache: Option<CacheStatus>) -> Response {
    let mut response = (answer.status, answer.body.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = answer.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(cache) = cache {
        headers.insert(X_CACHE, HeaderValue::from_static(cache.as_str()));
    }
    response
}

/// Middleware: drops every response header that is not on the allowlist, and
/// marks answers as not sniffable and not for shared caches.
pub async fn retain_allowed(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Our own answers carry allowed headers only: check before allocating
    // the list of names to drop.
    if headers.keys().any(|name| !ALLOWED.contains(&name.as_str())) {
        let names: Vec<HeaderName> = headers.keys().cloned().collect();
        for name in names {
            if !ALLOWED.contains(&name.as_str()) {
                headers.remove(&name);
            }
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::Router;
    use bytes::Bytes;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn only_allowlisted_headers_leave() {
        let app = Router::new()
            .route(
                "/x",
                get(|| async {
                    (
                        [
                            ("set-cookie", "session=1"),
                            ("server", "upstream/1.0"),
                            ("x-api-key", "leak"),
                            ("retry-after", "3"),
                            ("x-cache", "hit"),
                        ],
                        "{}",
                    )
                }),
            )
            .layer(axum::middleware::from_fn(retain_allowed));
        let response = app
            .oneshot(Request::get("/x").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let headers = response.headers();
        assert!(headers.get("set-cookie").is_none());
        assert!(headers.get("server").is_none());
        assert!(headers.get("x-api-key").is_none());
        assert_eq!(headers["retry-after"], "3");
        assert_eq!(headers["x-cache"], "hit");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    #[test]
    fn rebuilds_answers_with_json_type_retry_after_and_x_cache() {
        let answer = UpstreamAnswer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Bytes::from_static(b"{\"error\":\"Rate limit exceeded\"}"),
            retry_after: Some(60),
        };
        let response = answer_response(&answer, Some(CacheStatus::Miss));
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["retry-after"], "60");
        assert_eq!(response.headers()["x-cache"], "miss");
    }
}
