//! How upstream requests travel: hyper's pooled HTTP/1 client for an
//! `http://` upstream (the sandbox, or a sidecar on the same host), reqwest
//! with rustls for `https://`.
//!
//! The plain path exists for speed: per call, reqwest re-parses the URL twice
//! (request and redirect bookkeeping), merges default headers and runs its
//! redirect and retry layers, which cost more CPU than the forwarding itself
//! when the upstream is near. Both paths keep the same guarantees: requests
//! carry only the headers [`crate::upstream`] gives them, redirects are not
//! followed, no proxy from the environment is used, and the whole call
//! (connect, answer, body) is bounded by one timeout.

use std::time::Duration;

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::BffError;

/// An answer as it came, before [`crate::upstream`] checks it.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    /// The upstream's status.
    pub(crate) status: StatusCode,
    /// Its `Retry-After` in seconds, when it sent a usable one.
    pub(crate) retry_after: Option<u64>,
    /// The whole body, at most the limit given to [`Transport::send`].
    pub(crate) body: Bytes,
}

/// Idle upstream connections are closed after this long (reqwest's default).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The client for the upstream's scheme.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// `http://`: hyper directly (boxed: it is several times reqwest's handle).
    Plain(Box<Client<HttpConnector, Full<Bytes>>>),
    /// `https://`: reqwest with rustls.
    Tls(reqwest::Client),
}

impl Transport {
    /// A client for `scheme`, with `default_headers` on every request
    /// (`accept` and the key).
    pub(crate) fn new(
        scheme: &str,
        default_headers: HeaderMap,
        timeout: Duration,
    ) -> Result<Self, String> {
        if scheme == "http" {
            let mut connector = HttpConnector::new();
            // Small request/answer exchanges: no Nagle delay on either side.
            connector.set_nodelay(true);
            let client = Client::builder(TokioExecutor::new())
                .timer(TokioTimer::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(POOL_IDLE)
                .build(connector);
            return Ok(Self::Plain(Box::new(client)));
        }
        reqwest::Client::builder()
            .default_headers(default_headers)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map(Self::Tls)
            .map_err(|err| format!("HTTP client: {err}"))
    }

    /// Sends one request to `url` and reads the whole answer, refusing one
    /// longer than `max_body`. `headers` are the request's own for the plain
    /// path (reqwest adds its defaults itself); a `body` is sent as JSON.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: String,
        headers: &HeaderMap,
        body: Option<Bytes>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<RawAnswer, BffError> {
        match self {
            Self::Plain(client) => {
                let call = plain_call(client, method, url, headers, body, max_body);
                tokio::time::timeout(timeout, call)
                    .await
                    .unwrap_or(Err(BffError::UpstreamTimeout))
            }
            Self::Tls(client) => tls_call(client, method, &url, body, max_body).await,
        }
    }
}

async fn plain_call(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: Method,
    url: String,
    headers: &HeaderMap,
    body: Option<Bytes>,
    max_body: usize,
) -> Result<RawAnswer, BffError> {
    let uri = Uri::try_from(url).map_err(|_| BffError::Internal)?;
    let mut request_headers = headers.clone();
    if body.is_some() {
        request_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let mut request = Request::new(Full::new(body.unwrap_or_default()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = request_headers;
    let response = client.request(request).await.map_err(|err| {
        // hyper's message names neither the URL's query nor the headers.
        tracing::warn!(error = %err, "upstream call failed");
        BffError::UpstreamUnreachable
    })?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = match Limited::new(response.into_body(), max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => return Err(too_long()),
        Err(err) => {
            tracing::warn!(error = %err, "upstream answer cut off");
            return Err(cut_off());
        }
    };
    Ok(RawAnswer {
        status,
        retry_after,
        body,
    })
}

async fn tls_call(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Bytes>,
    max_body: usize,
) -> Result<RawAnswer, BffError> {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.header(CONTENT_TYPE, "application/json").body(body);
    }
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let mut raw = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if raw.len() + chunk.len() > max_body {
            return Err(too_long());
        }
        raw.extend_from_slice(&chunk);
    }
    Ok(RawAnswer {
        status,
        retry_after,
        body: raw.freeze(),
    })
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(conferbot::error::parse_retry_after)
}

fn too_long() -> BffError {
    BffError::BadUpstreamAnswer("the Conferbot API answered more than the BFF passes on")
}

fn cut_off() -> BffError {
    BffError::BadUpstreamAnswer("the Conferbot API answer was cut off")
}

fn transport_error(err: reqwest::Error) -> BffError {
    // reqwest's message names the URL, never the headers; logged for operators.
    tracing::warn!(error = %err, "upstream call failed");
    if err.is_timeout() {
        BffError::UpstreamTimeout
    } else if err.is_connect() {
        BffError::UpstreamUnreachable
    } else if err.is_body() || err.is_decode() {
        cut_off()
    } else {
        BffError::UpstreamUnreachable
    }
}
