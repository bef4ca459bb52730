//! Fault injection: the next N API calls fail in a chosen way, so clients
//! and the BFF can be tested against a server that misbehaves.
//!
//! Faults are armed in a queue (`--fault KIND:COUNT`, `POST /sandbox/faults`)
//! and consumed one per request under `/api/v1`, before auth, because a real
//! server's failures do not care who is asking. A faulted call does not count
//! toward the monthly quota, except `delay` and `truncated`, which answer the
//! real call (slowly, or cut short).

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::reply;

/// How a faulted call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// `500 {"error": "Internal server error"}` (or another 4xx/5xx status).
    Status500,
    /// `200` with an HTML page instead of JSON.
    NonJson,
    /// `200` with the real JSON answer cut in half (a decode error, not a transport one).
    Truncated,
    /// The real answer, after a pause.
    Delay,
    /// The connection is closed without any answer.
    Drop,
}

impl FaultKind {
    /// The kind's name, as flags and the admin route write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status500 => "status500",
            Self::NonJson => "nonJson",
            Self::Truncated => "truncated",
            Self::Delay => "delay",
            Self::Drop => "drop",
        }
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        [
            Self::Status500,
            Self::NonJson,
            Self::Truncated,
            Self::Delay,
            Self::Drop,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(raw.trim()))
        .ok_or_else(|| {
            format!("unknown fault {raw:?}; faults: status500, nonJson, truncated, delay, drop")
        })
    }
}

/// Delay of a `delay` fault when none is given.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(1_000);

/// A fault armed for the next `count` API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    /// How the calls fail.
    pub kind: FaultKind,
    /// How many calls.
    pub count: u32,
    /// The pause of a `delay` fault.
    pub delay: Duration,
    /// The status of a `status500` fault (400–599).
    pub status: u16,
}

impl FaultSpec {
    /// `count` calls failing with `kind`, with the default delay and status 500.
    pub fn new(kind: FaultKind, count: u32) -> Self {
        Self {
            kind,
            count,
            delay: DEFAULT_DELAY,
            status: 500,
        }
    }

    /// Checks the status range, so a fault can never produce a success or an invalid status.
    pub fn validate(&self) -> Result<(), String> {
        if (400..=599).contains(&self.status) {
            Ok(())
        } else {
            Err(format!(
                "fault status must be from 400 to 599, got {}",
                self.status
            ))
        }
    }
}

/// `KIND[:COUNT[:ARG]]`: `drop`, `status500:3`, `status500:2:503`, `delay:5:250`
/// (ARG is the status for `status500`, milliseconds for `delay`).
impl FromStr for FaultSpec {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut parts = raw.split(':');
        let kind: FaultKind = parts.next().unwrap_or_default().parse()?;
        let mut spec = FaultSpec::new(kind, 1);
        if let Some(count) = parts.next() {
            spec.count = count
                .trim()
                .parse()
                .map_err(|_| format!("fault count must be a number, got {count:?} in {raw:?}"))?;
        }
        if let Some(arg) = parts.next() {
            let n: u64 = arg
                .trim()
                .parse()
                .map_err(|_| format!("fault argument must be a number, got {arg:?} in {raw:?}"))?;
            match kind {
                FaultKind::Delay => spec.delay = Duration::from_millis(n),
                FaultKind::Status500 => spec.status = u16::try_from(n).unwrap_or(0),
                _ => return Err(format!("fault {} takes no argument", kind.as_str())),
            }
        }
        if parts.next().is_some() {
            return Err(format!(
                "fault must look like KIND:COUNT[:ARG], got {raw:?}"
            ));
        }
        spec.validate()?;
        Ok(spec)
    }
}

/// Faults waiting to hit calls, oldest first.
#[derive(Debug, Clone, Default)]
pub struct FaultQueue {
    armed: VecDeque<FaultSpec>,
}

impl FaultQueue {
    /// Arms `spec` after those already armed.
    pub fn arm(&mut self, spec: FaultSpec) {
        if spec.count > 0 {
            self.armed.push_back(spec);
        }
    }

    /// The fault for the call arriving now, if any; uses up one of its count.
    pub fn take(&mut self) -> Option<FaultSpec> {
        let front = self.armed.front_mut()?;
        let taken = *front;
        front.count = front.count.saturating_sub(1);
        if front.count == 0 {
            self.armed.pop_front();
        }
        Some(taken)
    }

    /// The armed faults with their remaining counts.
    pub fn armed(&self) -> impl Iterator<Item = &FaultSpec> {
        self.armed.iter()
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.armed.clear();
    }
}

/// The answer of a `status500` fault.
pub fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let words = if status == StatusCode::INTERNAL_SERVER_ERROR {
        "Internal server error"
    } else {
        conferbot::error::status_reason(status.as_u16())
    };
    reply::error(status, words).into_response()
}

/// The answer of a `nonJson` fault: what a misconfigured proxy sends.
pub fn html_page() -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        "<!DOCTYPE html><html><head><title>Maintenance</title></head>\
         <body><h1>We'll be right back</h1></body></html>",
    )
        .into_response()
}

/// `response` with the first half of its body only, and a matching
/// `content-length`: the transfer completes, the JSON does not.
pub async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Ok(len) = HeaderValue::from_str(&half.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, len);
    }
    Response::from_parts(parts, Body::from(half))
}

/// Lets a handler close the connection it was called on (the `drop` fault).
/// [`crate::RunningSandbox`] puts one in every request's extensions.
#[derive(Debug, Clone, Default)]
pub struct ConnectionKill(pub(crate) Arc<Notify>);

/// The answer of a `drop` fault: closes the connection without a byte of answer.
///
/// Served by [`crate::RunningSandbox`], the handler asks the connection's task
/// to drop the socket and never returns, so hyper never has a response to
/// write. Served some other way (`router()` under `axum::serve`), it answers a
/// body that fails at once instead, which makes hyper abort the connection:
/// closed all the same, but a client may see the status line first.
pub async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(kill) => {
            kill.0.notify_one();
            std::future::pending::<Response>().await
        }
        None => Response::new(Body::from_stream(futures_util::stream::once(async {
            Err::<bytes::Bytes, std::io::Error>(std::io::Error::other(
                "connection dropped by fault",
            ))
        }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        assert_eq!(
            "drop".parse::<FaultSpec>(),
            Ok(FaultSpec::new(FaultKind::Drop, 1))
        );
        let spec: FaultSpec = "status500:2:503".parse().unwrap();
        assert_eq!((spec.count, spec.status), (2, 503));
        let spec: FaultSpec = "delay:3:250".parse().unwrap();
        assert_eq!(spec.delay, Duration::from_millis(250));
        assert_eq!(
            "nonjson:4".parse::<FaultSpec>().map(|s| s.kind),
            Ok(FaultKind::NonJson)
        );
        for bad in [
            "",
            "boom",
            "drop:x",
            "drop:1:2",
            "status500:1:200",
            "delay:1:2:3",
        ] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn queue_consumes_in_order() {
        let mut q = FaultQueue::default();
        q.arm(FaultSpec::new(FaultKind::Drop, 2));
        q.arm(FaultSpec::new(FaultKind::NonJson, 1));
        q.arm(FaultSpec::new(FaultKind::Delay, 0));
        let kinds: Vec<_> = std::iter::from_fn(|| q.take()).map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [FaultKind::Drop, FaultKind::Drop, FaultKind::NonJson]
        );
    }

    #[test]
    fn names_round_trip_through_serde() {
        for kind in ["status500", "nonJson", "truncated", "delay", "drop"] {
            let parsed: FaultKind = serde_json::from_value(kind.into()).unwrap();
            assert_eq!(parsed.as_str(), kind);
        }
    }
}
