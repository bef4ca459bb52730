//! Event streams: opening many (`GET /api/conferbot/events`), counting the
//! events each receives and when, and posting signed deliveries that the
//! BFF fans out to all of them.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use conferbot::protocol::webhooks::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::sockets::{connect_from, exchange, loopback, read_answer, Answer};

/// The events path under the default mount.
pub const EVENTS: &str = "/api/conferbot/events";
/// The webhook receiver under the default mount.
pub const RECEIVER: &str = "/api/conferbot/webhooks/incoming";
/// What marks a delivered event in the stream.
const EVENT_LINE: &[u8] = b"event: response.created\n";

/// Opens an event stream from `from`; the stream once its `200` head
/// arrived, or the refusal.
pub async fn open(from: IpAddr, to: SocketAddr) -> Result<std::result::Result<TcpStream, Answer>> {
    let mut stream = connect_from(from, to).await?;
    let request =
        format!("GET {EVENTS} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the head's end: the stream's frames stay unread.
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.extend_from_slice(&byte);
        if head.len() > 16 * 1024 {
            bail!("no end to the answer's head");
        }
    }
    if head.starts_with(b"HTTP/1.1 200") {
        return Ok(Ok(stream));
    }
    let mut rest = read_answer(&mut stream, Duration::from_secs(2)).await;
    rest.raw = format!("{}{}", String::from_utf8_lossy(&head), rest.raw);
    rest.status = rest.raw.get(9..12).and_then(|code| code.parse().ok());
    Ok(Err(rest))
}

/// When each stream received each event, in order.
pub type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

/// Reads `streams` until they end, recording when each event arrives.
pub fn listen(streams: Vec<TcpStream>, tasks: &mut JoinSet<()>) -> Arrivals {
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![Vec::new(); streams.len()]));
    for (i, mut stream) in streams.into_iter().enumerate() {
        let arrivals = Arc::clone(&arrivals);
        tasks.spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut carry: Vec<u8> = Vec::new();
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let now = Instant::now();
                carry.extend_from_slice(buf.get(..n).unwrap_or_default());
                let found = count(&carry, EVENT_LINE);
                if found > 0 {
                    if let Ok(mut all) = arrivals.lock() {
                        if let Some(mine) = all.get_mut(i) {
                            mine.extend(std::iter::repeat(now).take(found));
                        }
                    }
                }
                // Keep what could be the start of a marker split between
                // reads (the marker cannot overlap itself: only its last
                // byte is a newline).
                let keep = carry.len().saturating_sub(EVENT_LINE.len() - 1);
                carry.drain(..keep);
            }
        });
    }
    arrivals
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Posts one signed `response.created` delivery (the flat body Conferbot
/// sends), `n` making it distinct; the status.
pub async fn deliver(to: SocketAddr, secret: &str, n: usize) -> Result<u16> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let timestamp = conferbot::timestamp::format_iso8601_ms(i64::try_from(now_ms)?);
    let body = serde_json::json!({
        "event": "response.created",
        "botId": "0123456789abcdef01234567",
        "responseId": format!("{n:024x}"),
        "chatSessionId": format!("sess_{n}"),
        "visitorId": format!("visitor_{n}"),
        "timestamp": timestamp,
    })
    .to_string();
    let signature = conferbot::sign_webhook_body(body.as_bytes(), secret.as_bytes());
    let request = format!(
        "POST {RECEIVER} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{SIGNATURE_HEADER}: {signature}\r\n{EVENT_HEADER}: response.created\r\n\
         {TIMESTAMP_HEADER}: {timestamp}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(loopback(1), to, request.as_bytes(), Duration::from_secs(10)).await?;
    answer
        .status
        .ok_or_else(|| anyhow!("no answer to a delivery: {:?}", answer.raw))
}
