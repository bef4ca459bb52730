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

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use bytes::{Bytes, BytesMut};
use conferbot_policy::upstream_answer::{cut_off, retry_after, too_long};
use conferbot_policy::BffError;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

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
    /// A client for `scheme`.
    pub(crate) fn new(scheme: &str, timeout: Duration) -> Result<Self, String> {
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
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map(Self::Tls)
            .map_err(|err| format!("HTTP client: {err}"))
    }

    /// Sends one request to `url` with exactly `headers` and reads the whole
    /// answer, refusing one longer than `max_body`.
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
            Self::Tls(client) => tls_call(client, method, &url, headers, body, max_body).await,
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
    let mut request = Request::new(Full::new(body.unwrap_or_default()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers.clone();
    let response = client.request(request).await.map_err(|err| {
        // hyper's message names neither the URL's query nor the headers.
        tracing::warn!(error = %err, "upstream call failed");
        BffError::UpstreamUnreachable
    })?;
    let status = response.status();
    let retry_after = upstream_retry_after(response.headers());
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
    headers: &HeaderMap,
    body: Option<Bytes>,
    max_body: usize,
) -> Result<RawAnswer, BffError> {
    let mut request = client.request(method, url).headers(headers.clone());
    if let Some(body) = body {
        request = request.body(body);
    }
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    let retry_after = upstream_retry_after(response.headers());
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

fn upstream_retry_after(headers: &HeaderMap) -> Option<u64> {
    retry_after(headers.get(RETRY_AFTER).map(|v| v.as_bytes()))
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
