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

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use conferbot_policy::auth::{outcome, subrequest_headers, AuthOutcome, Original};
use conferbot_policy::ConfigError;

use crate::http::respond::Headers;

/// Most bytes of an authorisation answer's body read (then dropped).
const MAX_BODY: usize = 16 * 1024;

/// The forward-auth client.
#[derive(Debug, Clone)]
pub(crate) struct ForwardAuth {
    client: reqwest::Client,
    url: reqwest::Url,
    user_header: HeaderName,
}

impl ForwardAuth {
    /// A client for `url`, reading the user from `user_header`, giving up
    /// after `timeout`.
    pub(crate) fn new(
        url: &str,
        user_header: &str,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let url = reqwest::Url::parse(url)
            .map_err(|err| ConfigError(format!("--auth-url {url:?}: {err}")))?;
        let user_header = HeaderName::from_bytes(user_header.as_bytes())
            .map_err(|err| ConfigError(format!("--auth-user-header: {err}")))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|err| ConfigError(format!("forward-auth HTTP client: {err}")))?;
        Ok(Self {
            client,
            url,
            user_header,
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
        let answer = self.client.get(self.url.clone()).headers(sent).send().await;
        let mut response = match answer {
            Ok(response) => response,
            Err(err) => {
                // reqwest names the URL, never the headers (the cookies).
                tracing::warn!(error = %err, "forward-auth did not answer; request refused");
                return AuthOutcome::Failed;
            }
        };
        let status = response.status().as_u16();
        let user = response
            .headers()
            .get(&self.user_header)
            .map(|v| v.as_bytes().to_vec());
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read > MAX_BODY {
                break;
            }
        }
        let decided = outcome(status, user.as_deref());
        if decided == AuthOutcome::Failed {
            tracing::warn!(
                status,
                "forward-auth answered neither 2xx nor 401/403; request refused"
            );
        }
        decided
    }
}
