//! The allowlist: which requests a BFF answers, and which it forwards.
//!
//! Everything is decided on the raw request path (still percent-encoded,
//! never normalized): the core's [`match_route`] over its endpoint table is
//! the allowlist, and [`hostile_reason`] refuses path tricks outside the table
//! too. The query is re-validated by the core and re-encoded canonically, so
//! nothing the browser wrote is passed on verbatim.

use conferbot::endpoint::{hostile_reason, match_route, RouteError};
use conferbot::{Method, ObjectId, Operation, PageRequest, EXTERNAL_PREFIX};

use crate::error::BffError;
use crate::request::RequestHead;

/// A request that may be forwarded: the operation, its validated ids and, for
/// paginated operations, the canonical page. Also the key of a cached read.
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

/// Which part of a BFF a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `{mount}/events`: the live events (Server-Sent Events), `GET` only.
    Events,
    /// The webhook receiver (`{mount}/webhooks/incoming` by default), `POST` only.
    Webhook,
    /// `{mount}` and everything below it: the API, through [`resolve`].
    Api,
    /// Anything else: not the BFF's (static files, another handler, or `404`).
    Outside,
}

/// The paths a BFF serves, as [`crate::Settings`] gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts {
    /// The API's mount (`/api/conferbot`).
    pub mount: String,
    /// `{mount}/events`.
    pub events: String,
    /// The webhook receiver's path.
    pub webhook: String,
}

impl Mounts {
    /// Which route `path` (raw, without the query) is. The events and webhook
    /// paths are matched exactly; the API is the mount and all below it.
    pub fn classify(&self, path: &str) -> Route {
        if path == self.events {
            Route::Events
        } else if path == self.webhook {
            Route::Webhook
        } else if path == self.mount
            || path
                .strip_prefix(self.mount.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        {
            Route::Api
        } else {
            Route::Outside
        }
    }
}

/// Refuses every method of a single-method route but `expected` (`405` with
/// `Allow`), as the events stream (`GET`) and the receiver (`POST`) do.
pub fn require_method(method: &str, expected: Method) -> Result<(), BffError> {
    if method == expected.as_str() {
        Ok(())
    } else {
        Err(BffError::MethodNotAllowed(vec![expected]))
    }
}

/// The target of a request under `mount`, or why it is refused: an absolute
/// request target first, then [`resolve`].
pub fn target<H: ?Sized>(mount: &str, head: &RequestHead<'_, H>) -> Result<Target, BffError> {
    refuse_absolute_form(head.absolute_form)?;
    resolve(mount, head.method, head.path, head.query)
}

/// Resolves `method` on the raw `path` (`{mount}/external/v1/<path>`) with its
/// raw `query` into a [`Target`], or says why it is refused (400 hostile or
/// bad input, 404, 405).
pub fn resolve(
    mount: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Result<Target, BffError> {
    let rest = path.strip_prefix(mount).ok_or(BffError::NotFound)?;
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
    let matched = match_route(method, api_path).map_err(|err| match err {
        RouteError::Hostile(why) => BffError::HostilePath(why),
        RouteError::InvalidId(err) => BffError::InvalidRequest(err.message),
        RouteError::NotFound => BffError::NotFound,
        RouteError::MethodNotAllowed(allowed) => BffError::MethodNotAllowed(allowed),
    })?;
    let page = if matched.operation.is_paginated() {
        let page = PageRequest::from_query_string(query)
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

/// Refuses a request whose target named a scheme or host
/// (`GET http://evil/... HTTP/1.1`): that form is for proxies, which a BFF is
/// not.
pub fn refuse_absolute_form(absolute_form: bool) -> Result<(), BffError> {
    if absolute_form {
        return Err(BffError::HostilePath(
            "absolute request targets are not accepted: send the path only".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HeaderList;

    const MOUNT: &str = "/api/conferbot";
    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

    fn get(path_and_query: &str) -> Result<Target, BffError> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        resolve(MOUNT, "GET", path, query)
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
        // Upper and lower case spell one id: one target, one cache key.
        let upper = get(&format!(
            "/api/conferbot/external/v1/chatbots/{}/responses",
            BOT.to_uppercase()
        ))
        .unwrap();
        let lower = get(&format!(
            "/api/conferbot/external/v1/chatbots/{BOT}/responses"
        ))
        .unwrap();
        assert_eq!(upper, lower);
        assert_eq!(crate::cache_key(&upper), crate::cache_key(&lower));
    }

    #[test]
    fn refuses_absolute_form_targets() {
        let headers = HeaderList::default();
        let mut head = RequestHead {
            method: "GET",
            path: "/api/conferbot/external/v1/usage",
            query: None,
            absolute_form: true,
            headers: &headers,
        };
        assert!(matches!(
            target(MOUNT, &head),
            Err(BffError::HostilePath(_))
        ));
        head.absolute_form = false;
        assert_eq!(target(MOUNT, &head).unwrap().operation, Operation::GetUsage);
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
        let put = resolve(MOUNT, "PUT", "/api/conferbot/external/v1/webhooks", None);
        assert!(matches!(put, Err(BffError::MethodNotAllowed(m)) if m.len() == 2));
    }

    #[test]
    fn classifies_paths_by_route() {
        let mounts = Mounts {
            mount: MOUNT.into(),
            events: "/api/conferbot/events".into(),
            webhook: "/hooks/conferbot".into(),
        };
        assert_eq!(mounts.classify("/api/conferbot/events"), Route::Events);
        assert_eq!(mounts.classify("/hooks/conferbot"), Route::Webhook);
        for api in [
            "/api/conferbot",
            "/api/conferbot/",
            "/api/conferbot/external/v1/usage",
            "/api/conferbot/events/x",
        ] {
            assert_eq!(mounts.classify(api), Route::Api, "{api}");
        }
        for outside in ["/", "/api/conferbotX", "/hooks/conferbot/x", "/healthz"] {
            assert_eq!(mounts.classify(outside), Route::Outside, "{outside}");
        }
    }

    #[test]
    fn single_method_routes_refuse_the_others_with_allow() {
        assert_eq!(require_method("GET", Method::Get), Ok(()));
        let err = require_method("POST", Method::Get).unwrap_err();
        assert_eq!(err.allow().as_deref(), Some("GET"));
        assert!(require_method("get", Method::Get).is_err());
    }
}
