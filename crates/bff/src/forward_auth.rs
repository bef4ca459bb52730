//! `--auth-url`: the forward-auth subrequest, as nginx's `auth_request`
//! makes it. The policy says what is sent and what the answer means
//! ([`conferbot_policy::auth`]); this sends it.
//!
//! `GET {auth-url}` carries the browser's `Cookie` and `Authorization` and
//! the original request's `X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto`
//! and `-For`, nothing else. Redirects are not followed (a `3xx` is an
//! answer that decides nothing: refused), no proxy from the environment is
//! used, and the whole exchange is bounded by `--auth-timeout`; a timeout
//! or a connection error refuses the request (fail closed). The answer's
//! body is read (at most [`MAX_BODY`]) only so the connection can be reused.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use bytes::Bytes;
use conferbot_policy::auth::{outcome, subrequest_headers, AuthOutcome, Original};
use conferbot_policy::ConfigError;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use crate::http::respond::Headers;
use crate::upstream::transport;

/// Most bytes of an authorisation answer's body read (then dropped).
const MAX_BODY: usize = 16 * 1024;

/// The forward-auth client: the upstream's HTTP stack (hyper-util over
/// hyper-rustls, the public roots), its own pool.
#[derive(Debug, Clone)]
pub(crate) struct ForwardAuth {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    url: Uri,
    user_header: HeaderName,
    timeout: Duration,
}

impl ForwardAuth {
    /// A client for `url`, reading the user from `user_header`, giving up
    /// after `timeout`.
    pub(crate) fn new(
        url: &str,
        user_header: &str,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let parsed = url::Url::parse(url)
            .map_err(|err| ConfigError(format!("--auth-url {url:?}: {err}")))?;
        let url = Uri::try_from(parsed.as_str())
            .map_err(|err| ConfigError(format!("--auth-url {url:?}: {err}")))?;
        let user_header = HeaderName::from_bytes(user_header.as_bytes())
            .map_err(|err| ConfigError(format!("--auth-user-header: {err}")))?;
        Ok(Self {
            client: transport::client(None)?,
            url,
            user_header,
            timeout,
        })
    }

    /// Asks the authorisation service about a request with `headers`.
    pub(crate) async fn ask(&self, headers: &HeaderMap, original: &Original<'_>) -> AuthOutcome {
        let mut sent = HeaderMap::new();
        for (name, value) in subrequest_headers(&Headers(headers), original) {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                let mut value = value;
                value.set_sensitive(name == "cookie" || name == "authorization");
                sent.append(HeaderName::from_static(name), value);
            }
        }
        let mut request = Request::new(Empty::new());
        *request.uri_mut() = self.url.clone();
        *request.headers_mut() = sent;
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(Ok((status, user))) => {
                let decided = outcome(status, user.as_deref());
                if decided == AuthOutcome::Failed {
                    tracing::warn!(
                        status,
                        "forward-auth answered neither 2xx nor 401/403; request refused"
                    );
                }
                decided
            }
            Ok(Err(err)) => {
                // The error names neither the URL's query nor the headers (the cookies).
                tracing::warn!(error = %err, "forward-auth did not answer; request refused");
                AuthOutcome::Failed
            }
            Err(_) => {
                tracing::warn!("forward-auth did not answer in time; request refused");
                AuthOutcome::Failed
            }
        }
    }

    /// Sends `request`: the status and the user header of the answer, whose
    /// body is read (at most [`MAX_BODY`]) only so the connection can be
    /// reused.
    async fn exchange(
        &self,
        request: Request<Empty<Bytes>>,
    ) -> Result<(u16, Option<Vec<u8>>), hyper_util::client::legacy::Error> {
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        let user = response
            .headers()
            .get(&self.user_header)
            .map(|v| v.as_bytes().to_vec());
        let _ = Limited::new(response.into_body(), MAX_BODY).collect().await;
        Ok((status, user))
    }
}
