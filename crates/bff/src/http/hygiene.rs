//! Header hygiene on the way back to the browser, and CORS, as the policy
//! lists them ([`conferbot_policy::headers`]).
//!
//! Upstream answers are rebuilt, not relayed (`super::respond`). As a second
//! line of defence, [`keep_allowed`] runs over every response under the
//! mount and drops any header not on the allowlist (a `set-cookie` or
//! `server` added by some future change never reaches the browser): the
//! handlers run it last on their own answers (`super::quota::under_mount`),
//! and [`retain_allowed`], as a layer, on the answers of the authorisation
//! step (`--auth-url`), which no handler makes. No layer sits between a
//! handler and the router.

use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use conferbot_policy::headers::{
    allowed, ALWAYS, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::upstream::http_method;

/// Middleware: drops every response header that is not on the allowlist, and
/// marks answers as not sniffable and not for shared caches.
pub(crate) async fn retain_allowed(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    keep_allowed(response.headers_mut());
    response
}

/// What [`retain_allowed`] does to an answer's headers.
pub(crate) fn keep_allowed(headers: &mut HeaderMap) {
    // Our own answers carry allowed headers only: check before allocating
    // the list of names to drop.
    if headers.keys().any(|name| !allowed(name.as_str())) {
        let names: Vec<HeaderName> = headers.keys().cloned().collect();
        for name in names {
            if !allowed(name.as_str()) {
                headers.remove(&name);
            }
        }
    }
    for (name, value) in ALWAYS_HEADERS.iter() {
        headers.insert(name.clone(), value.clone());
    }
}

/// [`ALWAYS`] as typed headers, checked once rather than on every answer.
static ALWAYS_HEADERS: LazyLock<[(HeaderName, HeaderValue); ALWAYS.len()]> = LazyLock::new(|| {
    ALWAYS.map(|(name, value)| {
        (
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    })
});

/// CORS for `--allow-origin`; none at all by default (same-origin only).
pub(crate) fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods(CORS_ALLOW_METHODS.map(http_method))
            .allow_headers(CORS_ALLOW_HEADERS.map(HeaderName::from_static))
            .expose_headers(CORS_EXPOSE_HEADERS.map(HeaderName::from_static)),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
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
        assert_eq!(headers["cache-control"], "no-store");
    }
}
