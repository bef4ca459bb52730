//! The allowlist: which requests under the mount are forwarded at all.
//!
//! Everything is decided on the raw request path (`uri.path()`, still
//! percent-encoded, never normalized): the core's [`match_route`] over its
//! endpoint table is the allowlist, and [`hostile_reason`] refuses path tricks
//! outside the table too. The query is re-validated by the core and re-encoded
//! canonically, so nothing the browser wrote is passed on verbatim.

use axum::http::{Method, Uri, Version};
use conferbot::endpoint::{hostile_reason, match_route, RouteError};
use conferbot::{ObjectId, Operation, PageRequest, EXTERNAL_PREFIX};

use crate::error::BffError;

/// A request that may be forwarded: the operation, its validated ids and, for
/// paginated operations, the canonical page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The operation of the endpoint table.
    pub operation: Operation,
    /// Its ids, validated as 24 hex digits, in path order.
    pub ids: Vec<ObjectId>,
    /// `page`/`limit` for paginated operations (defaults filled in); `None`
    /// for the others, whose query is dropped.
    pub page: Option<PageRequest>,
}

/// Resolves a request to `{mount}/external/v1/<path>` into a [`Target`], or
/// says why it is refused (400 hostile or bad input, 404, 405).
pub fn resolve(mount: &str, method: &Method, uri: &Uri) -> Result<Target, BffError> {
    let rest = uri.path().strip_prefix(mount).ok_or(BffError::NotFound)?;
    let api_path = rest
        .strip_prefix(EXTERNAL_PREFIX)
        .filter(|path| path.starts_with('/'));
    let Some(api_path) = api_path else {
        // Not an API path; still tell a trick (`/api/conferbot/..%2f`) from a
        // plain unknown path, as the table's own matcher would.
        return Err(
            match hostile_reason(rest).filter(|_| rest.starts_with('/')) {
                Some(why) => BffError::HostilePath(why.to_owned()),
                None => BffError::NotFound,
            },
        );
    };
    let matched = match_route(method.as_str(), api_path).map_err(|err| match err {
        RouteError::Hostile(why) => BffError::HostilePath(why),
        RouteError::InvalidId(err) => BffError::InvalidRequest(err.message),
        RouteError::NotFound => BffError::NotFound,
        RouteError::MethodNotAllowed(allowed) => BffError::MethodNotAllowed(allowed),
    })?;
    let page = if matched.operation.is_paginated() {
        let page = PageRequest::from_query_string(uri.query())
            .map_err(|err| BffError::InvalidRequest(err.message))?;
        Some(page)
    } else {
        None
    };
    Ok(Target {
        operation: matched.operation,
        ids: matched.ids,
        page,
    })
}

/// Refuses an HTTP/1 request whose target names a scheme or host
/// (`GET http://evil/... HTTP/1.1`): that form is for proxies, which this is
/// not. (HTTP/2 always carries the authority, so it is not refused there.)
pub fn refuse_absolute_form(version: Version, uri: &Uri) -> Result<(), BffError> {
    let http1 = matches!(
        version,
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    if http1 && (uri.scheme().is_some() || uri.authority().is_some()) {
        return Err(BffError::HostilePath(
            "absolute request targets are not accepted: send the path only".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNT: &str = "/api/conferbot";
    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

    fn get(path_and_query: &str) -> Result<Target, BffError> {
        resolve(MOUNT, &Method::GET, &path_and_query.parse::<Uri>().unwrap())
    }

    #[test]
    fn resolves_table_paths_with_a_canonical_page() {
        let target = get("/api/conferbot/external/v1/chatbots?limit=5&utm=x&page=2").unwrap();
        assert_eq!(target.operation, Operation::ListChatbots);
        assert_eq!(target.page.unwrap().to_query(), "page=2&limit=5");
        let target = get(&format!("/api/conferbot/external/v1/chatbots/{BOT}?page=2")).unwrap();
        assert_eq!(target.operation, Operation::GetChatbot);
        assert_eq!(target.ids[0].as_str(), BOT);
        assert_eq!(target.page, None);
        let target = get("/api/conferbot/external/v1/chatbots").unwrap();
        assert_eq!(target.page, Some(PageRequest::default()));
    }

    #[test]
    fn refuses_absolute_form_targets_over_http1_only() {
        let absolute: Uri = "http://evil.example/api/conferbot/external/v1/usage"
            .parse()
            .unwrap();
        assert!(refuse_absolute_form(Version::HTTP_11, &absolute).is_err());
        assert!(refuse_absolute_form(Version::HTTP_2, &absolute).is_ok());
        let origin_form: Uri = "/api/conferbot/external/v1/usage".parse().unwrap();
        assert!(refuse_absolute_form(Version::HTTP_11, &origin_form).is_ok());
    }

    #[test]
    fn tells_hostile_from_unknown_from_wrong_method() {
        let hostile = [
            "/api/conferbot/external/v1/chatbots/../usage",
            "/api/conferbot/external/v1/chatbots%2f..",
            "/api/conferbot/%2e%2e/secret",
            "/api/conferbot//evil.com/x",
        ];
        for path in hostile {
            assert!(matches!(get(path), Err(BffError::HostilePath(_))), "{path}");
        }
        for path in [
            "/api/conferbot",
            "/api/conferbot/",
            "/api/conferbot/external/v1",
            "/api/conferbot/external/v2/chatbots",
            "/api/conferbot/chatbots",
            "/elsewhere",
            "/api/conferbotX/external/v1/chatbots",
        ] {
            assert_eq!(get(path), Err(BffError::NotFound), "{path}");
        }
        assert!(matches!(
            get("/api/conferbot/external/v1/chatbots/123"),
            Err(BffError::InvalidRequest(_))
        ));
        assert!(matches!(
            get("/api/conferbot/external/v1/chatbots?limit=1000"),
            Err(BffError::InvalidRequest(_))
        ));
        let put = resolve(
            MOUNT,
            &Method::PUT,
            &"/api/conferbot/external/v1/webhooks".parse().unwrap(),
        );
        assert!(matches!(put, Err(BffError::MethodNotAllowed(m)) if m.len() == 2));
    }
}
