//! The floods of issue 12, each a set of sockets held open by the attacker
//! until it is dropped. Connections are spread over attacker addresses
//! ([`attacker`]) round-robin.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::sockets::connect_from;

/// The `i`th attacker address: 127.10.x.y, never the legitimate 127.0.0.1.
pub fn attacker(i: usize) -> IpAddr {
    let x = u8::try_from((i / 250) % 250).unwrap_or(0);
    let y = u8::try_from(i % 250 + 1).unwrap_or(1);
    IpAddr::V4(Ipv4Addr::new(127, 10, x, y))
}

/// `count` addresses' worth of attackers: 0..count.
pub fn attackers(count: usize) -> Vec<IpAddr> {
    (0..count).map(attacker).collect()
}

/// The request a partial-request attacker sends, and never finishes (27 bytes).
pub const PARTIAL_REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHos";

/// A head that promises a 100-byte body that never comes.
pub fn withheld_body(path: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nx-conferbot-csrf: 1\r\nContent-Length: 100\r\n\r\n")
        .into_bytes()
}

/// A request head of about `bytes` bytes, without its final blank line: it
/// never ends. Padded with headers of up to 4 KiB each, so that it stays
/// within hyper's 100 headers for any size up to 400 KB (a head with more is
/// refused at the 101st, which is not the attack).
pub fn stalled_head(bytes: usize) -> Vec<u8> {
    let mut head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    let mut n = 0;
    while head.len() + 32 < bytes {
        let value = (bytes - head.len() - 32).clamp(1, 4096);
        head.extend_from_slice(format!("x-pad-{n}: {}\r\n", "a".repeat(value)).as_bytes());
        n += 1;
    }
    head
}

/// Sockets an attacker holds.
#[derive(Debug, Default)]
pub struct Flood {
    /// The connections, in the order opened.
    pub sockets: Vec<TcpStream>,
    /// Connections that could not be opened (or written to: closed already).
    pub failed: usize,
}

impl Flood {
    /// `count` connections to `to`, each sending `bytes` (maybe none) and then
    /// nothing more, from `sources` round-robin.
    pub async fn open(to: SocketAddr, count: usize, sources: &[IpAddr], bytes: &[u8]) -> Self {
        let mut flood = Flood::default();
        for i in 0..count {
            let from = sources
                .get(i % sources.len().max(1))
                .copied()
                .unwrap_or_else(|| attacker(0));
            match connect_from(from, to).await {
                Ok(mut socket) => {
                    if !bytes.is_empty() && socket.write_all(bytes).await.is_err() {
                        flood.failed += 1;
                    }
                    flood.sockets.push(socket);
                }
                Err(_) => flood.failed += 1,
            }
        }
        flood
    }

    /// How many of the sockets the server closed (EOF or reset) within `wait`,
    /// and how many bytes they were sent in all.
    pub async fn closed_by_server(&mut self, wait: Duration) -> Result<(usize, usize)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut closed = 0;
        let mut received = 0;
        for socket in &mut self.sockets {
            let mut buf = [0u8; 4096];
            loop {
                match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        closed += 1;
                        break;
                    }
                    Ok(Ok(n)) => received += n,
                    Err(_) => break,
                }
            }
        }
        Ok((closed, received))
    }
}
