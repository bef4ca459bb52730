//! Test helpers for live events: signed deliveries and an SSE client that
//! reads the stream as text, the way a browser's `EventSource` does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{json, Value};

pub const SECRET: &str = "whsec_test_secret";

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A documented flat delivery body of `event` stamped `at` (Unix seconds,
/// written ISO 8601 as Conferbot does), with `fields` (ids, or fields this
/// version does not know) between the event and the timestamp.
pub fn delivery(event: &str, at: i64, fields: Value) -> String {
    let mut body = serde_json::Map::new();
    body.insert("event".into(), json!(event));
    if let Value::Object(fields) = fields {
        body.extend(fields);
    }
    body.insert(
        "timestamp".into(),
        json!(conferbot::timestamp::format_iso8601_ms(at * 1_000)),
    );
    Value::Object(body).to_string()
}

/// POSTs `body` to `url` signed with `secret`, with `x-webhook-timestamp: stamp`.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    secret: &str,
    stamp: &str,
    event: &str,
) -> (u16, String) {
    let signature = conferbot::sign_webhook_body(body.as_bytes(), secret.as_bytes());
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-webhook-signature", signature)
        .header("x-webhook-timestamp", stamp)
        .header("x-webhook-event", event)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// One SSE message: an event, or a comment line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
    pub comments: Vec<String>,
}

/// A connected SSE stream.
pub struct SseClient {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
}

impl SseClient {
    /// `GET url`, with `Last-Event-ID` when given.
    pub async fn connect(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            stream: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next message (event, comment or retry), or `None` at the end or
    /// after `wait`.
    pub async fn next_message(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }

    /// The next message carrying an event (comments and retry hints skipped).
    pub async fn next_event(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next_message(left).await?;
            if message.event.is_some() || !message.data.is_empty() {
                return Some(message);
            }
        }
    }

    /// Every event until `quiet` passes without one.
    pub async fn drain_events(&mut self, quiet: Duration) -> Vec<Message> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event(quiet).await {
            events.push(event);
        }
        events
    }
}

fn parse(block: &str) -> Message {
    let mut message = Message::default();
    let mut data = Vec::new();
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            message.comments.push(comment.trim().to_owned());
        } else if let Some((field, value)) = line.split_once(':') {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => message.id = Some(value.to_owned()),
                "event" => message.event = Some(value.to_owned()),
                "data" => data.push(value.to_owned()),
                "retry" => message.retry = value.parse().ok(),
                _ => {}
            }
        }
    }
    message.data = data.join("\n");
    message
}
