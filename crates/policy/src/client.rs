//! Who a request is from, for fairness ([`crate::window`]) and per-client
//! spend caps ([`crate::spend`]): an input of the policy's decisions, never
//! something it reads from a socket.
//!
//! - A user named by the deployment's authorisation step (forward-auth's
//!   user header, or the JS server half's `authorize(request)`):
//!   [`ClientId::user`].
//! - Otherwise the connection's address ([`ClientId::ip`]): the peer, or,
//!   when the peer is one of `--trusted-proxy` (CIDRs), the first address in
//!   `X-Forwarded-For` that is not a trusted proxy, read from the right
//!   ([`client_ip`]); everything left of it was written by the client and is
//!   ignored. IPv6 clients are grouped by their /64 (one host usually holds
//!   a whole /64, so counting single addresses would let it be a million
//!   clients); IPv4-mapped IPv6 is the IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::request::HeaderLookup;
use crate::settings::ConfigError;

/// Longest user name taken from an authorisation step; a longer one names
/// nobody (the address is used instead).
pub const MAX_USER_LEN: usize = 256;
/// `X-Forwarded-For` hops read at most, from the right.
pub const MAX_FORWARDED_HOPS: usize = 32;

/// Who a request is from, canonical: `ip:203.0.113.7`,
/// `ip:2001:db8:1:2::/64`, `user:alice@example.com`, or `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// The client at `ip`: IPv4 as it is, IPv4-mapped IPv6 as IPv4, other
    /// IPv6 by its /64.
    pub fn ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::v4(v4),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    let network = Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0);
                    Self(format!("ip:{network}/64"))
                }
            },
        }
    }

    /// `ip:a.b.c.d`, written digit by digit: every request is identified,
    /// and `Ipv4Addr`'s `Display` (through `format!`) cost ten times this.
    fn v4(v4: Ipv4Addr) -> Self {
        let mut text = String::with_capacity("ip:255.255.255.255".len());
        text.push_str("ip:");
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                text.push('.');
            }
            if octet >= 100 {
                text.push(char::from(b'0' + octet / 100));
            }
            if octet >= 10 {
                text.push(char::from(b'0' + octet / 10 % 10));
            }
            text.push(char::from(b'0' + octet % 10));
        }
        Self(text)
    }

    /// The user an authorisation step named, when the name is 1 to
    /// [`MAX_USER_LEN`] bytes of visible ASCII (anything else names nobody).
    pub fn user(name: &str) -> Option<Self> {
        let name = name.trim();
        let visible = name.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        (!name.is_empty() && name.len() <= MAX_USER_LEN && visible)
            .then(|| Self(format!("user:{name}")))
    }

    /// A request whose origin is not known (served without a peer address,
    /// as in-process tests do): all such requests are one client.
    pub fn unknown() -> Self {
        Self("unknown".to_owned())
    }

    /// The identity as text (it names the client in shared state).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses.
    pub fn parse(entries: &[String]) -> Result<Self, ConfigError> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ConfigError(format!(
                            "--trusted-proxy must be an address or a CIDR like 10.0.0.0/8, got {entry:?}"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address: `peer` unless it is a trusted proxy; then the
/// first hop of `X-Forwarded-For` from the right that is not one (all its
/// values, in order, as one comma-separated list). A hop that is not an
/// address ends the walk at the last one that was: everything left of a
/// trusted proxy's entry is the client's to write.
pub fn client_ip<H: HeaderLookup + ?Sized>(
    peer: IpAddr,
    headers: &H,
    trusted: &TrustedProxies,
) -> IpAddr {
    let mut client = canonical(peer);
    if !trusted.contains(client) {
        return client;
    }
    let values: Vec<&[u8]> = headers.values("x-forwarded-for").collect();
    let hops = values
        .iter()
        .rev()
        .flat_map(|value| {
            std::str::from_utf8(value)
                .unwrap_or_default()
                .rsplit(',')
                .map(str::trim)
        })
        .take(MAX_FORWARDED_HOPS);
    for hop in hops {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, possibly with a port
/// (`203.0.113.7:5123`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(inner) = hop.strip_prefix('[') {
        let (ip, _) = inner.split_once(']')?;
        return ip
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| canonical(IpAddr::V6(ip)));
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<IpAddr>().ok().map(canonical)
}

/// IPv4-mapped IPv6 as IPv4 (a dual-stack listener reports IPv4 peers so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HeaderList;

    #[test]
    fn an_ipv4_client_is_written_as_display_writes_it() {
        for a in [0u8, 1, 9, 10, 42, 99, 100, 127, 199, 200, 255] {
            for b in [0u8, 7, 10, 100, 255] {
                let v4 = Ipv4Addr::new(a, b, 255 - b, a.wrapping_mul(7));
                assert_eq!(ClientId::ip(IpAddr::V4(v4)).as_str(), format!("ip:{v4}"));
                let mapped = IpAddr::V6(v4.to_ipv6_mapped());
                assert_eq!(ClientId::ip(mapped).as_str(), format!("ip:{v4}"));
            }
        }
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::parse(&entries).unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderList {
        HeaderList::new(values.iter().map(|v| ("X-Forwarded-For", *v)))
    }

    #[test]
    fn identities_are_canonical() {
        assert_eq!(ClientId::ip(ip("203.0.113.7")).as_str(), "ip:203.0.113.7");
        assert_eq!(
            ClientId::ip(ip("::ffff:203.0.113.7")).as_str(),
            "ip:203.0.113.7"
        );
        assert_eq!(
            ClientId::ip(ip("2001:db8:1:2:aaaa::1")),
            ClientId::ip(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(
            ClientId::ip(ip("2001:db8:1:2::9")).as_str(),
            "ip:2001:db8:1:2::/64"
        );
        assert_eq!(ClientId::user(" alice ").unwrap().as_str(), "user:alice");
        assert_eq!(ClientId::user(""), None);
        assert_eq!(ClientId::user("a\nb"), None);
        assert_eq!(ClientId::user(&"x".repeat(MAX_USER_LEN + 1)), None);
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let spoofed = forwarded(&["198.51.100.9"]);
        assert_eq!(
            client_ip(ip("203.0.113.7"), &spoofed, &none),
            ip("203.0.113.7")
        );
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        // The first untrusted hop from the right; what the client wrote
        // before it is ignored.
        let chain = forwarded(&["6.6.6.6, 198.51.100.9", "10.1.2.3"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("198.51.100.9")
        );
        // Not from a trusted proxy: the header is the client's own words.
        assert_eq!(
            client_ip(ip("192.0.2.1"), &chain, &trusted),
            ip("192.0.2.1")
        );
        // Ports and brackets, mapped addresses, garbage.
        let ported = forwarded(&["[2001:db8::5]:443, 198.51.100.9:5123"]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &ported, &trusted),
            ip("198.51.100.9")
        );
        let garbage = forwarded(&["nonsense, 10.9.9.9"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &garbage, &trusted),
            ip("10.9.9.9")
        );
        let empty = forwarded(&[]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &empty, &trusted),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse(&["nope".to_owned()]).is_err());
    }
}
