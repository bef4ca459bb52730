//! Where a BFF lets a browser point a new webhook: public `https://` hosts
//! only. Conferbot POSTs every delivery to the URL, so a webhook at
//! `http://169.254.169.254/`, `http://127.0.0.1:6379/` or `https://10.0.0.8/`
//! would make the upstream (or, with a self-hosted receiver, something near
//! it) send requests into a private network on a browser's say-so.
//!
//! The URL is parsed as a WHATWG URL, the way a browser or Node's `new URL()`
//! reads it, so every spelling of an IP literal is caught: dotted, decimal
//! (`2130706433`), hex (`0x7f.1`), octal, shortened (`127.1`), IPv6, and IPv4
//! inside IPv6 (`[::ffff:127.0.0.1]`, NAT64 `64:ff9b::…`, 6to4 `2002:…`). A
//! literal is refused unless it is globally routable. Names are refused when
//! they are local by definition: `localhost` and `*.localhost` (RFC 6761),
//! `*.local` (mDNS), `*.home.arpa`, `*.internal`, `*.localdomain`, and
//! single-label names (resolved through search domains).
//!
//! Not checked, because it cannot be without DNS (and DNS at creation time
//! proves nothing about delivery time): a public-looking name that resolves
//! to a private address (`127.0.0.1.nip.io`, a rebinding name). That is for
//! the sender's egress policy.
//!
//! `--allow-local-webhooks` (for local testing: the demo and the tests
//! register `http://127.0.0.1:…` receivers) also accepts `http://` and
//! loopback hosts; private, link-local and other non-public addresses stay
//! refused.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::error::BffError;

/// Name suffixes that are local by definition.
const LOCAL_SUFFIXES: [&str; 6] = [
    "localhost",
    "local",
    "home.arpa",
    "internal",
    "localdomain",
    "lan",
];

/// Checks that `url` (already validated by the core as an absolute http(s)
/// URL) may be a webhook's target; `allow_local` accepts `http://` and
/// loopback hosts too.
pub fn check(url: &str, allow_local: bool) -> Result<(), BffError> {
    let refuse = |why: String| {
        Err(BffError::InvalidRequest(format!(
            "webhook URLs must be public https:// addresses: {why}"
        )))
    };
    let Ok(parsed) = Url::parse(url) else {
        return refuse("this URL does not parse".to_owned());
    };
    if parsed.scheme() != "https" && !(allow_local && parsed.scheme() == "http") {
        return refuse(format!("{}:// is not https", parsed.scheme()));
    }
    match parsed.host() {
        Some(Host::Ipv4(ip)) => check_ipv4(ip, allow_local).or_else(refuse),
        Some(Host::Ipv6(ip)) => check_ipv6(ip, allow_local).or_else(refuse),
        Some(Host::Domain(name)) => check_name(name, allow_local).or_else(refuse),
        None => refuse("the URL names no host".to_owned()),
    }
}

fn check_name(name: &str, allow_local: bool) -> Result<(), String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let is_loopback = name == "localhost" || name.ends_with(".localhost");
    if is_loopback && allow_local {
        return Ok(());
    }
    if !name.contains('.') {
        return Err(format!(
            "{name:?} is a local name (a single label, or a loopback name)"
        ));
    }
    for suffix in LOCAL_SUFFIXES {
        if name == suffix || name.ends_with(&format!(".{suffix}")) {
            return Err(format!("{name:?} is a local name (.{suffix})"));
        }
    }
    Ok(())
}

fn check_ipv4(ip: Ipv4Addr, allow_local: bool) -> Result<(), String> {
    if ip.is_loopback() && allow_local {
        return Ok(());
    }
    match ipv4_kind(ip) {
        None => Ok(()),
        Some(kind) => Err(format!("{ip} is {kind}")),
    }
}

/// What makes an IPv4 address non-public, if anything.
fn ipv4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let kind = if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local (cloud metadata lives there)"
    } else if a == 0 || ip.is_broadcast() {
        "not a host"
    } else if a == 100 && (64..128).contains(&b) {
        "shared address space (carrier-grade NAT)"
    } else if a == 192 && b == 0 && c == 0 {
        "reserved for protocol assignments"
    } else if ip.is_documentation() || (a == 198 && (18..20).contains(&b)) {
        "reserved for documentation or benchmarks"
    } else if ip.is_multicast() || a >= 240 {
        "multicast or reserved"
    } else {
        return None;
    };
    Some(kind)
}

fn check_ipv6(ip: Ipv6Addr, allow_local: bool) -> Result<(), String> {
    if ip.is_loopback() && allow_local {
        return Ok(());
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return match ipv4_kind(v4) {
            Some(kind) => Err(format!("[{ip}] carries {v4}, which is {kind}")),
            None => Ok(()),
        };
    }
    let [first, second, third, fourth, ..] = ip.segments();
    let kind = if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "not a host"
    } else if first & 0xfe00 == 0xfc00 {
        "private (unique local)"
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        "link-local"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else if first == 0x2001 && second == 0x0db8 {
        "reserved for documentation"
    } else if first == 0x0100 && second == 0 && third == 0 && fourth == 0 {
        "a discard prefix"
    } else {
        return Ok(());
    };
    Err(format!("[{ip}] is {kind}"))
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms
/// that reach IPv4: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        match check(url, false) {
            Err(BffError::InvalidRequest(why)) => why,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn public_https_urls_pass() {
        for url in [
            "https://hooks.example.com/in",
            "https://example.com:8443/a?b=c",
            "https://93.184.216.34/in",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/in",
            "https://xn--bcher-kva.example/in",
        ] {
            assert_eq!(check(url, false), Ok(()), "{url}");
        }
    }

    #[test]
    fn every_spelling_of_a_local_address_is_refused() {
        for url in [
            "http://hooks.example.com/in",
            "https://169.254.169.254/latest/meta-data/",
            "https://127.0.0.1/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.0.0.1/",
            "https://0177.0.0.1/",
            "https://10.0.0.8/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:c0a8:0101::1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://printer.local/",
            "https://router.home.arpa/",
            "https://metadata.google.internal/",
            "https://intranet/",
        ] {
            let why = refused(url);
            assert!(
                why.starts_with("webhook URLs must be public https://"),
                "{why}"
            );
        }
        assert!(refused("https://169.254.169.254/").contains("link-local"));
        assert!(refused("https://2130706433/").contains("127.0.0.1 is loopback"));
    }

    #[test]
    fn the_local_testing_flag_allows_http_and_loopback_only() {
        for url in [
            "http://127.0.0.1:8787/api/conferbot/webhooks/incoming",
            "http://localhost:9000/in",
            "http://[::1]:9000/in",
            "http://hooks.example.com/in",
        ] {
            assert_eq!(check(url, true), Ok(()), "{url}");
        }
        for url in [
            "http://169.254.169.254/",
            "http://10.0.0.8/",
            "http://[::ffff:169.254.169.254]/",
            "http://printer.local/",
        ] {
            assert!(check(url, true).is_err(), "{url}");
        }
    }
}
