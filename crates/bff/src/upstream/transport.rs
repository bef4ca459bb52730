//! EXPERIMENT (measured, not kept): reqwest for both schemes, with the same
//! rustls configuration, pool, timeout and size cap as the hyper transport.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, Method, StatusCode};
use bytes::{Bytes, BytesMut};
use conferbot_policy::upstream_answer::{cut_off, retry_after, too_long};
use conferbot_policy::{BffError, ConfigError};
use rustls::ClientConfig;

use super::roots::{trust_anchors, UpstreamCa};

/// An answer as it came, before [`crate::upstream`] checks it.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Bytes,
}

const POOL_IDLE: Duration = Duration::from_secs(90);

/// The upstream client, for either scheme.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub(crate) fn new(ca: Option<&UpstreamCa>) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| ConfigError(format!("TLS: {err}")))?
            .with_root_certificates(trust_anchors(ca)?)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(POOL_IDLE)
            .build()
            .map_err(|err| ConfigError(format!("HTTP client: {err}")))?;
        Ok(Self { client })
    }

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
        let mut request = self.client.request(method, url).headers(headers.clone());
        if let Some(body) = body {
            request = request.body(body);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers().get(RETRY_AFTER).map(|v| v.as_bytes()));
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
}

fn transport_error(err: reqwest::Error) -> BffError {
    tracing::warn!(error = %err, "upstream call failed");
    if err.is_body() || err.is_decode() {
        cut_off()
    } else {
        BffError::UpstreamUnreachable
    }
}
