//! How upstream requests travel: one client for `http://` and `https://`
//! alike, hyper-util's pooled HTTP/1.1 client over hyper-rustls's connector
//! (rustls on ring). Production (`https://`), the benchmarks and the tests
//! (`http://` or `https://` to the sandbox) all take this one path.
//!
//! Why not reqwest for both: measured against this client with the same
//! rustls configuration, pool, timeout and cap (commit 3354e4b, reverted),
//! same sandbox, three alternating rounds of `wrk -t2 -c64` over 1,000
//! distinct URLs, uncached: reqwest served 0.80× the requests/s over HTTP and
//! 0.84× over HTTPS, at 1.09× and 1.33× the CPU per request. Per call it
//! parses the URL again, merges its default headers and goes through its
//! redirect bookkeeping (even with redirects off); none of that is wanted here.
//!
//! What the client guarantees: requests carry exactly the headers
//! [`crate::upstream`] gives them, `host` included ([`host_header`]: hyper
//! would otherwise format it from the URL on every call; it adds only the
//! body's length); redirects are answers like any other, never followed; no proxy
//! from the environment (hyper has no notion of one); the whole call
//! (connect, TLS handshake, answer, body) is bounded by one timeout; answers
//! over the size limit are refused while they are read; connections are
//! pooled and reused (idle ones closed after [`POOL_IDLE`]); certificates
//! are always verified ([`super::roots`]).

use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{DATE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use bytes::Bytes;
use conferbot_policy::upstream_answer::{cut_off, retry_after, too_long};
use conferbot_policy::{BffError, ConfigError};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::ClientConfig;

use super::roots::{trust_anchors, UpstreamCa};

/// An answer as it came, before [`crate::upstream`] checks it.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    /// The upstream's status.
    pub(crate) status: StatusCode,
    /// Its `Retry-After` in seconds, when it sent a usable one.
    pub(crate) retry_after: Option<u64>,
    /// The whole body, at most the limit given to [`Transport::send`].
    pub(crate) body: Bytes,
    /// Its `Date` header (the upstream's clock, which turns its month).
    pub(crate) date: Option<String>,
}

/// Idle upstream connections are closed after this long.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The `host` header of every request to `base`: its host, and its port
/// unless it is the scheme's default, as hyper-util's client writes it for a
/// request that has none (never the URL's user information).
pub(crate) fn host_header(base: &str) -> Result<HeaderValue, ConfigError> {
    let unfit = || ConfigError(format!("the upstream URL {base:?} names no host"));
    let uri = Uri::try_from(base).map_err(|_| unfit())?;
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(unfit)?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let text = match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::try_from(text).map_err(|_| unfit())
}

/// A pooled HTTP/1.1 client for `http://` and `https://`, verifying with
/// `ca`'s certificates or the public roots, with no proxy and no redirects
/// (hyper-util's client follows none): the upstream's, and the forward-auth
/// subrequest's (`crate::forward_auth`).
pub(crate) fn client<B>(
    ca: Option<&UpstreamCa>,
) -> Result<Client<HttpsConnector<HttpConnector>, B>, ConfigError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    Ok(client_with(tls(ca)?))
}

/// The TLS configuration of every upstream client: rustls on ring, the
/// safe default protocol versions, `ca` or the public roots.
fn tls(ca: Option<&UpstreamCa>) -> Result<ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ConfigError(format!("TLS: {err}")))?
        .with_root_certificates(trust_anchors(ca)?)
        .with_no_client_auth())
}

/// [`client`] with its TLS configuration given (a pool of its own).
fn client_with<B>(tls: ClientConfig) -> Client<HttpsConnector<HttpConnector>, B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let mut tcp = HttpConnector::new();
    // Small request/answer exchanges: no Nagle delay on either side.
    tcp.set_nodelay(true);
    // The TLS layer above decides by scheme; this one connects for both.
    tcp.enforce_http(false);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector)
}

/// The upstream client, for either scheme: one pool per connection worker
/// (`crate::connection::workers`), so that a worker's upstream connections
/// are driven by tasks on its own thread, and one for calls made anywhere
/// else (the main runtime's).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    /// Off the workers.
    shared: UpstreamClient,
    /// `[n]` on worker `n`.
    workers: Arc<[UpstreamClient]>,
}

/// One pooled client of upstream calls.
type UpstreamClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

impl Transport {
    /// A client trusting `ca`'s certificates, or the public roots, with a
    /// pool for each of `workers` workers and one for the rest.
    pub(crate) fn new(ca: Option<&UpstreamCa>, workers: usize) -> Result<Self, ConfigError> {
        let tls = tls(ca)?;
        Ok(Self {
            shared: client_with(tls.clone()),
            workers: (0..workers).map(|_| client_with(tls.clone())).collect(),
        })
    }

    /// This thread's pool: its worker's, or the one shared by the rest (so
    /// does a worker index past the pools, which no worker of ours has).
    fn client(&self) -> &UpstreamClient {
        crate::connection::workers::current()
            .and_then(|worker| self.workers.get(worker))
            .unwrap_or(&self.shared)
    }

    /// Sends one request to `url` with exactly `headers` and reads the whole
    /// answer, refusing one longer than `max_body`; all within `timeout`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: String,
        headers: &HeaderMap,
        body: Option<Bytes>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<RawAnswer, BffError> {
        let call = self.call(method, url, headers, body, max_body);
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or(Err(BffError::UpstreamTimeout))
    }

    async fn call(
        &self,
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
        let response = self.client().request(request).await.map_err(|err| {
            // The message (and its source: refused, a certificate rejected…)
            // names neither the URL's query nor the headers.
            tracing::warn!(error = %err, source = ?std::error::Error::source(&err), "upstream call failed");
            BffError::UpstreamUnreachable
        })?;
        let status = response.status();
        let retry_after = retry_after(response.headers().get(RETRY_AFTER).map(|v| v.as_bytes()));
        let date = response
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
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
            date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_is_the_one_hyper_would_write() {
        for (base, host) in [
            ("http://127.0.0.1:18500/api/v1", "127.0.0.1:18500"),
            ("https://api.conferbot.com/api/v1", "api.conferbot.com"),
            ("https://api.conferbot.com:443/api/v1", "api.conferbot.com"),
            ("http://example.test:80/api/v1", "example.test"),
            ("https://example.test:80/api/v1", "example.test:80"),
            ("http://[::1]:8080/api/v1", "[::1]:8080"),
            ("http://user:pass@example.test:81/api", "example.test:81"),
        ] {
            assert_eq!(host_header(base).unwrap(), host, "{base}");
        }
        assert!(host_header("/api/v1").is_err());
    }
}
