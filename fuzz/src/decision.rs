//! The request → decision path of the BFF (its host check on every request,
//! then the proxy handler), composed from the policy's functions in the
//! order it applies them: the host allowlist (every `Host` value), the
//! allowlist of routes (`route::target`), CSRF for writes, the body's size
//! and re-validation, then the upstream call and its headers built from
//! scratch. What is left after it is I/O (forward-auth, the rate window,
//! the cache, the call itself).

use conferbot_policy::headers::{upstream_call, upstream_headers, UpstreamCall};
use conferbot_policy::host::AllowedHosts;
use conferbot_policy::{
    csrf, route, validate, BffError, HeaderList, HeaderLookup, RequestHead, Settings, Target,
};

/// The API key the fuzzed servers hold: it must reach the upstream, and
/// only in `x-api-key`.
pub const KEY: &str = "sk-fuzz-0123456789abcdef";

/// What a request came to when it may be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The route, ids and canonical page.
    pub target: Target,
    /// The upstream call: method and whole URL.
    pub call: UpstreamCall,
    /// Every header of the upstream request.
    pub headers: Vec<(&'static str, String)>,
    /// The body forwarded (re-serialized), if the operation takes one.
    pub body: Option<Vec<u8>>,
}

/// The settings the targets decide under: the defaults, plus one configured
/// origin and one allowed host, so every CSRF and host branch is reached.
pub fn settings() -> Settings {
    Settings {
        allow_origins: vec!["https://app.example.com".to_owned()],
        allow_hosts: vec!["bff.example.com".to_owned()],
        ..Settings::default()
    }
}

/// Decides a request: forwarded as [`Forward`], or refused with the error a
/// server answers.
pub fn decide(
    settings: &Settings,
    head: &RequestHead<'_, HeaderList>,
    body: &[u8],
) -> Result<Forward, BffError> {
    let hosts = AllowedHosts::new(&settings.allow_hosts, None).map_err(|_| BffError::Internal)?;
    let mut authorities = head.headers.values("host").peekable();
    if authorities.peek().is_none() {
        hosts.check(None)?;
    }
    for authority in authorities {
        hosts.check(Some(std::str::from_utf8(authority).unwrap_or("")))?;
    }
    let target = route::target(&settings.mount, head)?;
    if csrf::applies_to(target.operation.method()) {
        csrf::check(head.headers, &settings.normalized_origins(), &hosts)?;
    }
    validate::body_size(body.len())?;
    let body = validate::request_body(target.operation, body, settings.allow_local_webhooks)?;
    let call = upstream_call(&settings.upstream, &target)?;
    let headers = upstream_headers(KEY, body.is_some())
        .into_iter()
        .map(|(name, value)| (name, value.to_owned()))
        .collect();
    Ok(Forward {
        target,
        call,
        headers,
        body,
    })
}
