//! The BFF's request → decision function of the sans-IO core
//! (`conferbot_fuzz::decision::decide`: allowlist, CSRF, body limit and
//! re-validation, upstream call and headers) on a fuzzed request: method,
//! path, query, headers and body, written as text (`conferbot_fuzz::message`).
//!
//! A refused request:
//! - is the client's fault (4xx, never a 5xx), answered in the API's error
//!   format with only allowlisted headers, a bounded body, and `Allow` naming
//!   methods the path does take;
//! - produces no upstream call (the decision has none to give).
//!
//! A forwarded request:
//! - keeps its method, was under the mount, in origin form, not hostile,
//!   and every `Host` it named is an allowed host (no DNS rebinding);
//! - goes to the upstream URL built from the table: the canonical path (the
//!   request's, ids in lower case at most) and the canonical page, nothing of
//!   the browser's query; resolving that URL again gives the same target;
//! - carries exactly `accept`, `x-api-key` (the key) and, with a body,
//!   `content-type`: never a browser header (cookies, `authorization`, a
//!   browser's `x-api-key`, `x-forwarded-*`), never the key in the URL;
//! - as a write, had the CSRF marker and only allowed `Origin`s;
//! - forwards a body only for `createWebhook`: re-serialized with its known
//!   fields, valid, and a fixed point of the re-validation.

#![no_main]

use conferbot::protocol::bff::CSRF_HEADER;
use conferbot::{NewWebhook, Operation, EXTERNAL_PREFIX};
use conferbot_fuzz::decision::{decide, settings, Forward, KEY};
use conferbot_fuzz::message::Message;
use conferbot_policy::headers::{self, JSON};
use conferbot_policy::route::{self, Route};
use conferbot_policy::settings::MAX_BODY_BYTES;
use conferbot_policy::{validate, BffError, HeaderList, RequestHead, Settings};
use libfuzzer_sys::fuzz_target;

/// The longest error body a refusal may answer: whatever the request, an
/// error never echoes an unbounded part of it.
const MAX_ERROR_BODY: usize = 2_048;

fuzz_target!(|data: &[u8]| {
    let message = Message::parse(data);
    let settings = settings();
    let headers = HeaderList::new(message.headers.iter().map(|(n, v)| (n.as_str(), v.clone())));
    let head = RequestHead {
        method: &message.method,
        path: &message.path,
        query: message.query.as_deref(),
        absolute_form: message.absolute_form,
        headers: &headers,
    };
    match decide(&settings, &head, &message.body) {
        Err(err) => refused(&err, &settings, &message),
        Ok(forward) => forwarded(&forward, &settings, &message),
    }
});

fn refused(err: &BffError, settings: &Settings, message: &Message) {
    let answer = err.answer();
    assert!(
        (400..500).contains(&answer.status),
        "{err:?} answered {}",
        answer.status
    );
    assert!(
        answer.body.len() <= MAX_ERROR_BODY,
        "a {}-byte error body: {}",
        answer.body.len(),
        String::from_utf8_lossy(&answer.body)
    );
    let body: conferbot::ApiErrorBody =
        serde_json::from_slice(&answer.body).expect("an error body in the API's format");
    assert!(!body.error.is_empty());
    // The answer's own headers all pass the allowlist.
    let mut names = vec!["content-type"];
    names.extend(answer.retry_after.map(|_| "retry-after"));
    names.extend(answer.allow.as_ref().map(|_| "allow"));
    names.extend(headers::ALWAYS.iter().map(|(name, _)| *name));
    assert!(names.iter().all(|name| headers::allowed(name)), "{names:?}");
    if let BffError::MethodNotAllowed(allowed) = err {
        assert!(!allowed.is_empty());
        for method in allowed {
            assert_ne!(method.as_str(), message.method);
            let resolved = route::resolve(
                &settings.mount,
                method.as_str(),
                &message.path,
                message.query.as_deref(),
            );
            assert!(
                !matches!(resolved, Err(BffError::MethodNotAllowed(_))),
                "{method} {}: {resolved:?}",
                message.path
            );
        }
    }
}

fn forwarded(forward: &Forward, settings: &Settings, message: &Message) {
    let Forward {
        target,
        call,
        headers: upstream,
        body,
    } = forward;
    let operation = target.operation;
    assert_eq!(call.method.as_str(), message.method);
    assert_eq!(call.method, operation.method());
    assert!(!message.absolute_form);
    assert_eq!(settings.mounts().classify(&message.path), Route::Api);
    assert!(message.body.len() <= MAX_BODY_BYTES);

    // The URL: the upstream, the prefix, the canonical path and page.
    let rest = call
        .url
        .strip_prefix(settings.upstream.trim_end_matches('/'))
        .and_then(|rest| rest.strip_prefix(EXTERNAL_PREFIX))
        .expect("the call goes to the upstream's API");
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let requested = message
        .path
        .strip_prefix(&settings.mount)
        .and_then(|p| p.strip_prefix(EXTERNAL_PREFIX))
        .expect("a forwarded path is under the mount's API");
    assert!(
        path.eq_ignore_ascii_case(requested),
        "{path} for {requested}"
    );
    assert_eq!(query, target.page.map(|p| p.to_query()).as_deref());
    assert!(!call.url.contains(KEY), "the key in a URL");
    let again = route::resolve(
        &settings.mount,
        &message.method,
        &format!("{}{EXTERNAL_PREFIX}{path}", settings.mount),
        query,
    )
    .expect("the upstream URL resolves again");
    assert_eq!(&again, target);

    // The upstream request's headers: ours, built from scratch.
    let names: Vec<&str> = upstream.iter().map(|(name, _)| *name).collect();
    let expected: &[&str] = if body.is_some() {
        &["accept", "x-api-key", "content-type"]
    } else {
        &["accept", "x-api-key"]
    };
    assert_eq!(names, expected);
    for (name, value) in upstream {
        let expected = if *name == "x-api-key" { KEY } else { JSON };
        assert_eq!(value, expected, "{name}");
    }

    // Every Host names this server (the listed hosts, any port): never a
    // rebinding attacker's name.
    let hosts: Vec<&str> = message
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(!hosts.is_empty(), "forwarded without a Host");
    for host in &hosts {
        let name = host_name(host);
        assert!(
            ["localhost", "127.0.0.1", "[::1]", "bff.example.com"].contains(&name.as_str()),
            "forwarded for Host {host:?}"
        );
    }

    // Writes: the marker, and every Origin allowed.
    if operation.method() != conferbot::Method::Get {
        let marked = message
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(CSRF_HEADER) && v == "1");
        assert!(marked, "a write without {CSRF_HEADER}: 1");
        let host = message.header("host").map(str::to_ascii_lowercase);
        let origins = settings.normalized_origins();
        for (_, origin) in message
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("origin"))
        {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            let own = host.as_ref().is_some_and(|host| {
                origin == format!("http://{host}") || origin == format!("https://{host}")
            });
            assert!(own || origins.contains(&origin), "a write from {origin}");
        }
    }

    // The body: only createWebhook's, re-written, valid, a fixed point.
    match (operation, body) {
        (Operation::CreateWebhook, Some(body)) => {
            let value: serde_json::Value = serde_json::from_slice(body).expect("JSON");
            let keys: Vec<&String> = value.as_object().expect("an object").keys().collect();
            assert_eq!(keys, ["events", "url"], "known fields only");
            let hook: NewWebhook = serde_json::from_slice(body).expect("a NewWebhook");
            assert!(hook.validate().is_ok());
            let again = validate::request_body(operation, body, settings.allow_local_webhooks)
                .expect("still valid");
            assert_eq!(again.as_deref(), Some(body.as_slice()), "a fixed point");
        }
        (Operation::CreateWebhook, None) => panic!("createWebhook forwarded without a body"),
        (_, None) => {}
        (_, Some(_)) => panic!("{operation:?} forwarded a body"),
    }
}

/// The host of a `Host` value as compared: lower case, without the port and
/// a trailing dot; IPv6 literals in canonical brackets.
fn host_name(authority: &str) -> String {
    let lower = authority.trim().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix('[') {
        let inner = rest.split(']').next().unwrap_or_default();
        return inner
            .parse::<std::net::Ipv6Addr>()
            .map_or(lower.clone(), |ip| format!("[{ip}]"));
    }
    let name = lower
        .rsplit_once(':')
        .map_or(lower.as_str(), |(name, _)| name);
    name.strip_suffix('.').unwrap_or(name).to_owned()
}
