//! CSRF: writes (POST, DELETE) must prove they come from our own pages.
//!
//! A cross-site form or `fetch` without CORS approval cannot set a custom
//! header, so `x-conferbot-csrf: 1` is required; and when the browser says
//! where the request comes from (`Origin`), that origin must be one of
//! `--allow-origin`, or this server itself: an origin whose host is an
//! allowed host ([`AllowedHosts`], never whatever `Host` says: under DNS
//! rebinding the attacker's name is in both) and whose host and port are the
//! ones the request came to.

use conferbot::protocol::bff::CSRF_HEADER;
use conferbot::Method;

use crate::error::BffError;
use crate::host::{split_authority, AllowedHosts};
use crate::request::HeaderLookup;

/// Whether requests with `method` must pass [`check`]: every write.
pub fn applies_to(method: Method) -> bool {
    method != Method::Get
}

/// Checks a write's headers against the CSRF rules; `allowed_origins` are
/// the configured origins (`https://app.example.com`, lower case, no slash),
/// `hosts` the hosts this server answers for.
pub fn check<H: HeaderLookup + ?Sized>(
    headers: &H,
    allowed_origins: &[String],
    hosts: &AllowedHosts,
) -> Result<(), BffError> {
    let marked = headers.values(CSRF_HEADER).any(|value| value == b"1");
    if !marked {
        return Err(BffError::Csrf(format!(
            "writes must send the header `{CSRF_HEADER}: 1` (cross-site requests cannot)"
        )));
    }
    let host = headers.first_str("host");
    for origin in headers.values("origin") {
        let origin = std::str::from_utf8(origin).unwrap_or_default();
        if !origin_allowed(origin, host, allowed_origins, hosts) {
            return Err(BffError::Csrf(format!(
                "origin {:?} may not write here; allowed: this server's own origin{}",
                shorten(origin),
                if allowed_origins.is_empty() {
                    String::new()
                } else {
                    format!(" and {}", allowed_origins.join(", "))
                }
            )));
        }
    }
    Ok(())
}

/// Whether `origin` is configured, or the server's own: `http(s)://{host}`
/// with an allowed host, the same host and port the request came to.
fn origin_allowed(
    origin: &str,
    host: Option<&str>,
    allowed_origins: &[String],
    hosts: &AllowedHosts,
) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if allowed_origins.contains(&origin) {
        return true;
    }
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return false;
    };
    // Both schemes: behind a TLS-terminating proxy the browser says https
    // while the request reaches us as plain http for the same host.
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    authority == host && split_authority(authority).is_some_and(|(name, _)| hosts.allows(name))
}

/// Keeps an attacker-chosen value short in an error message.
fn shorten(raw: &str) -> String {
    raw.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HeaderList;

    const HOST: (&str, &str) = ("host", "127.0.0.1:8787");
    const MARK: (&str, &str) = (CSRF_HEADER, "1");

    fn headers(pairs: &[(&str, &str)]) -> HeaderList {
        HeaderList::new(pairs.iter().copied())
    }

    fn check(headers: &HeaderList, allowed: &[String]) -> Result<(), BffError> {
        super::check(headers, allowed, &AllowedHosts::new(&[], None).unwrap())
    }

    #[test]
    fn applies_to_writes_only() {
        assert!(!applies_to(Method::Get));
        assert!(applies_to(Method::Post) && applies_to(Method::Delete));
    }

    #[test]
    fn requires_the_header() {
        let allowed: Vec<String> = vec![];
        let err = check(&headers(&[HOST]), &allowed).unwrap_err();
        assert!(err.to_string().contains("x-conferbot-csrf: 1"), "{err}");
        assert!(check(&headers(&[HOST, (CSRF_HEADER, "true")]), &allowed).is_err());
        assert!(check(&headers(&[HOST, MARK]), &allowed).is_ok());
        // One marked value among several is enough, as with a repeated header.
        assert!(check(&headers(&[HOST, (CSRF_HEADER, "0"), MARK]), &allowed).is_ok());
    }

    #[test]
    fn accepts_same_origin_and_configured_origins_only() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let ok = [
            "http://127.0.0.1:8787",
            "https://127.0.0.1:8787",
            "https://app.example.com",
            "https://APP.example.com/",
        ];
        for origin in ok {
            let map = headers(&[HOST, MARK, ("origin", origin)]);
            assert!(check(&map, &allowed).is_ok(), "{origin}");
        }
        let bad = [
            "https://evil.example",
            "null",
            "http://127.0.0.1:9999",
            "http://127.0.0.1:8787.evil.example",
            "https://app.example.com.evil",
        ];
        for origin in bad {
            let map = headers(&[HOST, MARK, ("origin", origin)]);
            let err = check(&map, &allowed).unwrap_err();
            assert_eq!(err.status(), 403, "{origin}");
        }
        // Every Origin must pass, and without a Host only configured ones can.
        let twice = headers(&[HOST, MARK, ("origin", ok[0]), ("origin", bad[0])]);
        assert!(check(&twice, &allowed).is_err());
        let hostless = headers(&[MARK, ("origin", "http://127.0.0.1:8787")]);
        assert!(check(&hostless, &allowed).is_err());
    }

    #[test]
    fn a_rebinding_page_is_not_its_own_origin() {
        // Host and Origin agree, but name the attacker's host.
        let rebound = "rebind.attacker.example:8787";
        let map = headers(&[
            ("host", rebound),
            MARK,
            ("origin", "http://rebind.attacker.example:8787"),
        ]);
        assert_eq!(check(&map, &[]).unwrap_err().status(), 403);
        // Allowed by name, it is this server's own origin again.
        let hosts = AllowedHosts::new(&["rebind.attacker.example".to_owned()], None).unwrap();
        assert!(super::check(&map, &[], &hosts).is_ok());
    }
}
