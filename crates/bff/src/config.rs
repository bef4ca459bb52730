//! The BFF's configuration as the library takes it (the command line in
//! `crate::cli` produces one): the policy's [`Settings`], and what only this
//! server holds (the key, the webhook secret, Redis, the static directories).

use std::net::SocketAddr;
use std::path::PathBuf;

use conferbot::DEFAULT_BASE_URL;
use conferbot_policy::{ConfigError, Settings};

use crate::metrics::access::{MetricsListener, MetricsToken};
use crate::redis_state::RedisUrl;
use crate::secret::{ApiKey, WebhookSecret};
use crate::upstream::UpstreamCa;

/// Everything the BFF needs to serve.
#[derive(Debug, Clone)]
pub struct BffConfig {
    /// The upstream key; injected into upstream requests only.
    pub api_key: ApiKey,
    /// What the policy decides with: upstream, mount, origins, rate, queue
    /// wait, cache TTL, timeouts, webhook path and tolerance, SSE, replay.
    pub settings: Settings,
    /// Directory served at `/` (the dashboard).
    pub www: Option<PathBuf>,
    /// Directory served at `/pkg/` (the npm package, for the demo).
    pub pkg: Option<PathBuf>,
    /// The secret deliveries are signed with; without one the receiver
    /// refuses every delivery (`503`), it never accepts unsigned ones.
    pub webhook_secret: Option<WebhookSecret>,
    /// Share the limiter, cache, coalescing and events with other replicas
    /// through this Redis; `None`: in-process state.
    pub redis: Option<RedisUrl>,
    /// The address served on: a specific one is an allowed host by default
    /// (`--allow-host`). [`crate::serve`] fills it from its listener.
    pub listen: Option<SocketAddr>,
    /// Trust only these CA certificates for an `https://` upstream
    /// (`--upstream-ca`); `None`: the public web roots.
    pub upstream_ca: Option<UpstreamCa>,
    /// `/metrics` answers only `Authorization: Bearer TOKEN` (`--metrics-token-file`).
    pub metrics_token: Option<MetricsToken>,
    /// `/metrics` is served on this socket instead of the main one (`--metrics-listen`).
    pub metrics_listener: Option<MetricsListener>,
}

impl BffConfig {
    /// The defaults, for `api_key` against the real API.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            settings: Settings::default(),
            www: None,
            pkg: None,
            webhook_secret: None,
            redis: None,
            listen: None,
            upstream_ca: None,
            metrics_token: None,
            metrics_listener: None,
        }
    }

    /// Checks what the types cannot: the settings (the policy's rules) and
    /// the upstream URL.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.settings.validate()?;
        let raw = &self.settings.upstream;
        let upstream = url::Url::parse(raw)
            .map_err(|err| ConfigError(format!("--upstream {raw:?}: {err}")))?;
        if !matches!(upstream.scheme(), "http" | "https")
            || upstream.query().is_some()
            || !upstream.username().is_empty()
        {
            return Err(ConfigError(format!(
                "--upstream must be an http(s) base URL like {DEFAULT_BASE_URL}, got {raw:?}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BffConfig {
        BffConfig::new(ApiKey::new("k").unwrap())
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn refuses_bad_upstreams_and_bad_settings() {
        for upstream in [
            "ftp://x",
            "not a url",
            "http://u:p@x/api/v1",
            "http://x/?a=1",
        ] {
            let mut c = config();
            c.settings.upstream = upstream.into();
            assert!(c.validate().is_err(), "{upstream}");
        }
        let mut c = config();
        c.settings.mount = "/a/../b".into();
        assert!(c.validate().unwrap_err().0.contains("--mount"));
    }
}
