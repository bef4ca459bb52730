//! The hosts a BFF answers for (`--allow-host`), checked on every request,
//! as Vite's `server.allowedHosts` and Django's `ALLOWED_HOSTS` do.
//!
//! DNS rebinding makes a browser send a page's requests to this server under
//! the attacker's name: the page at `http://rebind.attacker.example:8787`
//! resolves first to the attacker, then to `127.0.0.1`, and its requests
//! carry `Host: rebind.attacker.example:8787` and a matching `Origin`, so
//! comparing `Origin` with `Host` proves nothing. A name-based allowlist
//! does: a rebinding page can never send an allowed `Host`.
//!
//! Always allowed: `localhost`, `127.0.0.1`, `[::1]`, and the address the
//! server listens on when it is a specific one (not `0.0.0.0`). `--allow-host`
//! adds names: `app.example.com` (that name), `.example.com` (it and every
//! subdomain), or `*` (any host: the check is off, and so is the protection).
//! Ports are not compared (a name either is this server's or is not); the
//! CSRF check compares the whole origin ([`crate::csrf`]).

use std::net::{IpAddr, Ipv6Addr};

use crate::error::BffError;
use crate::settings::ConfigError;

/// Hosts every BFF answers for, whatever `--allow-host` adds.
pub const ALWAYS_ALLOWED: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// One `--allow-host` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// Exactly this host (lower case; IPv6 in canonical `[…]` form).
    Exact(String),
    /// This domain and every subdomain (`.example.com`, stored without the dot).
    Domain(String),
    /// Any host.
    Any,
}

/// The hosts allowed, checked against each request's `Host` (or HTTP/2
/// `:authority`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<Pattern>,
}

impl AllowedHosts {
    /// The always-allowed hosts, the listen address `listen` when specific,
    /// and the `configured` entries (`--allow-host`: each a host name,
    /// `.domain`, an IP literal or `*`; anything else is refused).
    pub fn new(configured: &[String], listen: Option<IpAddr>) -> Result<Self, ConfigError> {
        let mut patterns: Vec<Pattern> = ALWAYS_ALLOWED
            .iter()
            .map(|h| Pattern::Exact((*h).to_owned()))
            .collect();
        if let Some(ip) = listen.filter(|ip| !ip.is_unspecified()) {
            patterns.push(Pattern::Exact(ip_host(ip)));
        }
        for entry in configured {
            patterns.push(validate_entry(entry)?);
        }
        Ok(Self { patterns })
    }

    /// Whether `host` (a name or an IP literal, without the port; IPv6 in
    /// brackets) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        canonical_host(host).is_some_and(|host| self.matches(&host))
    }

    /// Whether a host already canonical ([`canonical_host`]) is allowed.
    fn matches(&self, host: &str) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            Pattern::Exact(exact) => *exact == host,
            Pattern::Domain(domain) => {
                host == domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|sub| sub.ends_with('.'))
            }
            Pattern::Any => true,
        })
    }

    /// Checks a request's authority (`Host`, or HTTP/2's `:authority`):
    /// `400` when there is none or it is malformed, `403` when it is not
    /// allowed.
    pub fn check(&self, authority: Option<&str>) -> Result<(), BffError> {
        let authority = authority.ok_or_else(|| {
            BffError::InvalidRequest("a request must name its host (the Host header)".to_owned())
        })?;
        let host = split_authority(authority)
            .and_then(|(host, _)| canonical_host(host))
            .ok_or_else(|| {
                BffError::InvalidRequest("the Host header is not a host[:port]".to_owned())
            })?;
        if self.matches(&host) {
            Ok(())
        } else {
            Err(BffError::HostNotAllowed(shorten(&host)))
        }
    }
}

/// Checks one `--allow-host` entry: a host name (letters, digits, `-`, `.`),
/// `.domain` for a domain and its subdomains, an IP literal (IPv6 in
/// brackets), or `*`. No scheme, no port, no path.
fn validate_entry(entry: &str) -> Result<Pattern, ConfigError> {
    let refused = || {
        ConfigError(format!(
            "--allow-host must be a host name like app.example.com, .example.com for a domain and its subdomains, an IP address, or *; got {entry:?}"
        ))
    };
    if entry == "*" {
        return Ok(Pattern::Any);
    }
    if let Some(domain) = entry.strip_prefix('.') {
        let domain = canonical_host(domain)
            .filter(|d| is_name(d))
            .ok_or_else(refused)?;
        return Ok(Pattern::Domain(domain));
    }
    canonical_host(entry)
        .map(Pattern::Exact)
        .ok_or_else(refused)
}

/// A host as compared: a name in lower case without a trailing dot, an IPv4
/// literal as written, an IPv6 literal in canonical bracketed form. `None`
/// for anything else.
fn canonical_host(host: &str) -> Option<String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| ip_host(IpAddr::V6(ip)));
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    is_name(&host).then_some(host)
}

/// Letters, digits, `-` and `.` in non-empty labels (IPv4 literals included).
fn is_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `ip` as it appears in a `Host` header.
fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Splits `host[:port]` (`[v6][:port]`) into the host and the port.
pub fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    (!host.is_empty()).then_some((host, port))
}

/// Keeps an attacker-chosen host short in an error message.
fn shorten(raw: &str) -> String {
    raw.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn hosts(configured: &[&str], listen: Option<IpAddr>) -> AllowedHosts {
        let configured: Vec<String> = configured.iter().map(|s| (*s).to_owned()).collect();
        AllowedHosts::new(&configured, listen).unwrap()
    }

    #[test]
    fn the_defaults_are_loopback_and_the_listen_address() {
        let h = hosts(&[], Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
        for ok in [
            "localhost:8787",
            "LOCALHOST",
            "localhost.:80",
            "127.0.0.1:8787",
            "[::1]:8787",
            "[0:0:0:0:0:0:0:1]",
            "10.0.0.5:8787",
        ] {
            assert_eq!(h.check(Some(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "rebind.attacker.example:8787",
            "10.0.0.6",
            "127.0.0.2",
            "localhost.attacker.example",
            "[::2]",
        ] {
            let err = h.check(Some(refused)).unwrap_err();
            assert_eq!(err.status(), 403, "{refused}");
        }
        // An unspecified listen address names no host.
        let any = hosts(&[], Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        assert!(any.check(Some("0.0.0.0:8787")).is_err());
    }

    #[test]
    fn configured_names_domains_and_the_wildcard() {
        let h = hosts(&["app.example.com", ".corp.example"], None);
        assert!(h.allows("app.example.com"));
        assert!(h.allows("APP.example.com."));
        assert!(!h.allows("evil-app.example.com"));
        assert!(!h.allows("app.example.com.evil"));
        assert!(h.allows("corp.example"));
        assert!(h.allows("a.b.corp.example"));
        assert!(!h.allows("xcorp.example"));
        assert!(hosts(&["*"], None).allows("anything.example"));
        for bad in [
            "https://app.example.com",
            "app.example.com:443",
            "",
            ".",
            "a..b",
            "a b",
            "[::1",
        ] {
            assert!(AllowedHosts::new(&[bad.to_owned()], None).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_or_missing_hosts_are_400() {
        let h = hosts(&[], None);
        for bad in [
            None,
            Some(""),
            Some(":80"),
            Some("localhost:http"),
            Some("localhost:99999"),
            Some("[::1]x"),
            Some("a b"),
            Some("évil.example"),
        ] {
            assert_eq!(h.check(bad).unwrap_err().status(), 400, "{bad:?}");
        }
        assert_eq!(split_authority("[::1]:80"), Some(("[::1]", Some(80))));
        assert_eq!(split_authority("example.com"), Some(("example.com", None)));
    }
}
