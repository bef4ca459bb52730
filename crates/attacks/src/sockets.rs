//! Sockets from chosen loopback addresses, and raw HTTP/1 exchanges (raw, so
//! that nothing on the way fixes up what an attacker sends).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// `127.0.0.n`: attackers use n ≥ 10; the legitimate client is 127.0.0.1.
pub fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A connection to `to` from `from` (any free port).
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = socket
        .connect(to)
        .await
        .with_context(|| format!("connecting {from} → {to}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// What came back on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status of the first answer, if one came.
    pub status: Option<u16>,
    /// Everything read, as text.
    pub raw: String,
    /// Whether the server closed the connection (rather than the read timing out).
    pub closed: bool,
}

impl Answer {
    /// The first header `name` (lower case) of the answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        let head = self.raw.split("\r\n\r\n").next()?;
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The body of the first answer (after the blank line).
    pub fn body(&self) -> &str {
        self.raw.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }
}

/// Reads until the server closes or `limit` passes.
pub async fn read_answer(stream: &mut TcpStream, limit: Duration) -> Answer {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + limit;
    let closed = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => raw.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(_) => break false,
        }
    };
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Answer {
        status,
        raw,
        closed,
    }
}

/// Sends `bytes` from `from`, then reads until the server closes or `limit`.
pub async fn exchange(
    from: IpAddr,
    to: SocketAddr,
    bytes: &[u8],
    limit: Duration,
) -> Result<Answer> {
    let mut stream = connect_from(from, to).await?;
    stream.write_all(bytes).await?;
    Ok(read_answer(&mut stream, limit).await)
}

/// `GET path` with `Connection: close`, as raw bytes.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}
