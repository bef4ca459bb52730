//! URL building from the endpoint table, route matching, and the BFF's
//! resolution of a raw path under its mount.
//!
//! The input is a request line, `METHOD /path?query` (the rest ignored); its
//! path segments double as ids for building. Checked:
//! - matching (`match_route`): a match is the canonical path of its
//!   operation (rebuilt from the ids, it is the same path), under its own
//!   method; "method not allowed" lists methods that do match; hostile iff
//!   `hostile_reason` says so;
//! - building (`Operation::path`/`url`): for every operation, ids that parse
//!   build a path that matches back to the same operation and ids; ids that
//!   were never validated (deserialized) can never change the route: the path
//!   keeps its segment count and matches no other operation; the URL is
//!   base + prefix + path + the canonical page, which reads back as the page;
//! - the policy (`route::resolve`, `Mounts::classify`): a resolved target is
//!   under the mount, of the method asked, and its upstream URL resolves back
//!   to the same target.

#![no_main]

use conferbot::endpoint::{hostile_reason, match_route, RouteError, ENDPOINTS};
use conferbot::{ObjectId, Operation, PageRequest, BFF_MOUNT, DEFAULT_BASE_URL, EXTERNAL_PREFIX};
use conferbot_fuzz::message::Message;
use conferbot_policy::headers::upstream_call;
use conferbot_policy::route::{self, Route};
use conferbot_policy::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let message = Message::parse(data);
    let (method, raw_path) = (message.method.as_str(), message.path.as_str());
    let api_path = raw_path.strip_prefix(EXTERNAL_PREFIX).unwrap_or(raw_path);
    matching(method, api_path);
    let segments: Vec<&str> = api_path.split('/').filter(|s| !s.is_empty()).collect();
    building(&segments, message.query.as_deref());
    resolving(method, raw_path, message.query.as_deref());
});

fn matching(method: &str, path: &str) {
    let result = match_route(method, path);
    assert_eq!(
        matches!(result, Err(RouteError::Hostile(_))),
        hostile_reason(path).is_some(),
        "{path:?}"
    );
    match result {
        Ok(matched) => {
            assert_eq!(matched.operation.method().as_str(), method);
            let ids: Vec<&ObjectId> = matched.ids.iter().collect();
            let rebuilt = matched.operation.path(&ids).expect("the matched ids fit");
            // Canonical: only the ids' case may differ.
            assert!(rebuilt.eq_ignore_ascii_case(path), "{rebuilt} from {path}");
            assert!(matched
                .ids
                .iter()
                .all(|id| conferbot::id::is_object_id(id.as_str())));
        }
        Err(RouteError::MethodNotAllowed(allowed)) => {
            assert!(!allowed.is_empty());
            for other in allowed {
                assert_ne!(other.as_str(), method);
                assert!(match_route(other.as_str(), path).is_ok(), "{other} {path}");
            }
        }
        Err(RouteError::InvalidId(err)) => {
            assert_eq!(err.kind, conferbot::ErrorKind::InvalidRequest)
        }
        Err(RouteError::Hostile(_) | RouteError::NotFound) => {}
    }
}

fn building(segments: &[&str], query: Option<&str>) {
    // Every segment as an id that was validated, and as one that never was.
    let parsed: Vec<ObjectId> = segments
        .iter()
        .filter_map(|s| ObjectId::parse(s, "id").ok())
        .collect();
    let unchecked: Vec<ObjectId> = segments
        .iter()
        .filter_map(|s| serde_json::from_value(serde_json::Value::String((*s).to_owned())).ok())
        .collect();
    let page = PageRequest::from_query_string(query).ok();
    if let Some(page) = page {
        let canonical = page.to_query();
        assert_eq!(
            PageRequest::from_query_string(Some(&canonical)).ok(),
            Some(page)
        );
    }
    for op in Operation::ALL {
        let n = op.id_count();
        let template = op.endpoint().segments.len();
        if parsed.len() >= n {
            let ids: Vec<&ObjectId> = parsed.iter().take(n).collect();
            let path = op.path(&ids).expect("valid ids build");
            let matched = match_route(op.method().as_str(), &path).expect("a built path matches");
            assert_eq!(matched.operation, op);
            assert!(matched
                .ids
                .iter()
                .zip(&ids)
                .all(|(a, b)| a.as_str().eq_ignore_ascii_case(b.as_str())));
            for base in [DEFAULT_BASE_URL, BFF_MOUNT, "http://127.0.0.1:8787/api/v1/"] {
                url_reads_back(op, base, &ids, page, &path);
            }
        }
        if unchecked.len() >= n {
            let ids: Vec<&ObjectId> = unchecked.iter().take(n).collect();
            let path = op.path(&ids).expect("the count fits");
            assert_eq!(
                path.matches('/').count(),
                template,
                "an id added a segment: {path}"
            );
            assert!(!path.contains('?') && !path.contains('#'), "{path}");
            if let Ok(matched) = match_route(op.method().as_str(), &path) {
                assert_eq!(
                    matched.operation, op,
                    "an unchecked id changed the route: {path}"
                );
            }
            // Under any other method, at most an operation of the same path.
            for endpoint in ENDPOINTS.iter().filter(|e| e.operation != op) {
                if let Ok(matched) = match_route(endpoint.method.as_str(), &path) {
                    assert_eq!(
                        matched.operation.path_template(),
                        op.path_template(),
                        "{path} became another path"
                    );
                }
            }
        }
        // A wrong number of ids is an error, never a guess.
        let too_many: Vec<&ObjectId> = parsed.iter().chain(&unchecked).take(n + 1).collect();
        if too_many.len() == n + 1 {
            assert!(op.path(&too_many).is_err());
        }
    }
}

fn url_reads_back(
    op: Operation,
    base: &str,
    ids: &[&ObjectId],
    page: Option<PageRequest>,
    path: &str,
) {
    let url = op.url(base, ids, page).expect("valid ids build a URL");
    let rest = url
        .strip_prefix(base.trim_end_matches('/'))
        .and_then(|rest| rest.strip_prefix(EXTERNAL_PREFIX))
        .expect("the URL starts with its base and the prefix");
    let (url_path, url_query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    assert_eq!(url_path, path);
    match (op.is_paginated(), page) {
        (true, Some(page)) => {
            assert_eq!(PageRequest::from_query_string(url_query).ok(), Some(page));
        }
        _ => assert_eq!(url_query, None, "{url}"),
    }
}

fn resolving(method: &str, path: &str, query: Option<&str>) {
    let settings = Settings::default();
    let mounts = settings.mounts();
    // Reach the API often: the input's path, and the same under the mount.
    let under_mount = format!("{}{path}", settings.mount);
    for path in [path, under_mount.as_str()] {
        let Ok(target) = route::resolve(&settings.mount, method, path, query) else {
            continue;
        };
        assert_eq!(mounts.classify(path), Route::Api, "{path}");
        assert_eq!(target.operation.method().as_str(), method);
        assert_eq!(target.page.is_some(), target.operation.is_paginated());
        assert!(hostile_reason(path).is_none(), "{path}");
        let call = upstream_call(&settings.upstream, &target).expect("a target has its ids");
        let rest = call
            .url
            .strip_prefix(settings.upstream.trim_end_matches('/'))
            .expect("the call goes to the upstream");
        let (call_path, call_query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let again = route::resolve(
            &settings.mount,
            method,
            &format!("{}{call_path}", settings.mount),
            call_query,
        )
        .expect("the upstream URL resolves again");
        assert_eq!(again, target, "not a fixed point: {}", call.url);
        assert!(call_path.eq_ignore_ascii_case(&path[settings.mount.len()..]));
    }
}
