//! Who may use the BFF: anyone who can reach it spends the key, so a
//! deployment plugs in an authorisation step, as nginx's `auth_request`,
//! Traefik's `forwardAuth` and Duende's BFF session do. Off by default (the
//! demo needs none); the production setup turns it on.
//!
//! - `conferbot-bff --auth-url URL`: before a request under the mount (the
//!   API and `{mount}/events`; not the webhook receiver, which its signature
//!   authenticates), the BFF sends `GET URL` with the browser's `Cookie` and
//!   `Authorization` and the `X-Forwarded-*` of the original request
//!   ([`subrequest_headers`]), and decides by the answer's status
//!   ([`outcome`]).
//! - The JS server half: its `authorize(request)` hook says allowed (maybe
//!   with a user) or refused (401/403), and calls [`decide`] with that.
//!
//! The decision, for both: a `2xx` lets the request through, and its user
//! header (`--auth-user-header`, default [`DEFAULT_USER_HEADER`], as
//! oauth2-proxy names it) becomes the client for fairness and spend caps;
//! `401` and `403` are passed back; anything else, a timeout or an error
//! refuses the request with `503` (fail closed: an authorisation service that
//! does not answer lets nobody in).

use crate::client::ClientId;
use crate::error::BffError;
use crate::request::HeaderLookup;

/// The answer header that names the signed-in user, unless configured.
pub const DEFAULT_USER_HEADER: &str = "x-auth-request-user";
/// The browser's credentials passed to the authorisation service.
pub const CREDENTIAL_HEADERS: [&str; 2] = ["cookie", "authorization"];
/// Most bytes of one credential header passed on (larger ones are dropped).
pub const MAX_CREDENTIAL_BYTES: usize = 16 * 1024;

/// What the authorisation step said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Let it through; the user, when the step named one.
    Allowed {
        /// The signed-in user, as the step named it.
        user: Option<String>,
    },
    /// Refused: `401` (not signed in) or `403` (signed in, not allowed).
    Refused {
        /// 401 or 403.
        status: u16,
    },
    /// The step did not decide: another status, a timeout, an error.
    Failed,
}

/// The outcome of a forward-auth answer with `status` and, for a `2xx`,
/// the value of the user header, as nginx `auth_request` decides.
pub fn outcome(status: u16, user: Option<&[u8]>) -> AuthOutcome {
    match status {
        200..=299 => AuthOutcome::Allowed {
            user: user
                .and_then(|u| std::str::from_utf8(u).ok())
                .map(str::to_owned),
        },
        401 | 403 => AuthOutcome::Refused { status },
        _ => AuthOutcome::Failed,
    }
}

/// The decision: `Ok` with the user as a client (`None`: not named, or a
/// name [`ClientId::user`] does not take, so the address counts), or the
/// refusal to answer.
pub fn decide(outcome: &AuthOutcome) -> Result<Option<ClientId>, BffError> {
    match outcome {
        AuthOutcome::Allowed { user } => Ok(user.as_deref().and_then(ClientId::user)),
        AuthOutcome::Refused { status } => Err(BffError::AuthRefused(*status)),
        AuthOutcome::Failed => Err(BffError::AuthUnavailable),
    }
}

/// The original request, as the authorisation service is told about it.
#[derive(Debug, Clone, Copy)]
pub struct Original<'a> {
    /// Its method.
    pub method: &'a str,
    /// Its path and query, as received.
    pub uri: &'a str,
    /// Its host (`Host`).
    pub host: Option<&'a str>,
    /// `http` or `https` (as far as the BFF knows).
    pub proto: &'a str,
    /// The client's address.
    pub client_ip: &'a str,
}

/// Every header of the subrequest: the browser's [`CREDENTIAL_HEADERS`]
/// (each at most [`MAX_CREDENTIAL_BYTES`]) and `X-Forwarded-Method`,
/// `-Uri`, `-Host`, `-Proto`, `-For` (Traefik's names) of the original.
/// Nothing else of the browser's reaches the service.
pub fn subrequest_headers<'a, H: HeaderLookup + ?Sized>(
    headers: &'a H,
    original: &Original<'a>,
) -> Vec<(&'static str, &'a [u8])> {
    let mut out = Vec::new();
    for name in CREDENTIAL_HEADERS {
        for value in headers.values(name) {
            if value.len() <= MAX_CREDENTIAL_BYTES {
                out.push((name, value));
            }
        }
    }
    out.push(("x-forwarded-method", original.method.as_bytes()));
    out.push(("x-forwarded-uri", original.uri.as_bytes()));
    if let Some(host) = original.host {
        out.push(("x-forwarded-host", host.as_bytes()));
    }
    out.push(("x-forwarded-proto", original.proto.as_bytes()));
    out.push(("x-forwarded-for", original.client_ip.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HeaderList;

    #[test]
    fn decides_as_nginx_auth_request_does() {
        let allowed = outcome(204, Some(b"alice"));
        assert_eq!(
            decide(&allowed).unwrap(),
            Some(ClientId::user("alice").unwrap())
        );
        assert_eq!(decide(&outcome(200, None)).unwrap(), None);
        assert_eq!(decide(&outcome(200, Some(b"a\nb"))).unwrap(), None);
        assert_eq!(decide(&outcome(401, None)).unwrap_err().status(), 401);
        assert_eq!(decide(&outcome(403, None)).unwrap_err().status(), 403);
        for status in [302, 404, 500, 503] {
            assert_eq!(outcome(status, None), AuthOutcome::Failed);
        }
        let failed = decide(&AuthOutcome::Failed).unwrap_err();
        assert_eq!(failed.status(), 503);
        assert!(failed.retry_after().is_some());
    }

    #[test]
    fn the_subrequest_carries_credentials_and_the_original_only() {
        let headers = HeaderList::new([
            ("Cookie", "session=abc"),
            ("Authorization", "Bearer t"),
            ("x-api-key", "browser"),
            ("x-custom", "no"),
        ]);
        let original = Original {
            method: "GET",
            uri: "/api/conferbot/external/v1/usage",
            host: Some("app.example.com"),
            proto: "http",
            client_ip: "203.0.113.7",
        };
        let sent = subrequest_headers(&headers, &original);
        let names: Vec<&str> = sent.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "cookie",
                "authorization",
                "x-forwarded-method",
                "x-forwarded-uri",
                "x-forwarded-host",
                "x-forwarded-proto",
                "x-forwarded-for"
            ]
        );
        assert_eq!(sent[0].1, b"session=abc");
    }
}
