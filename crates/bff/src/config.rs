//! The BFF's configuration as the library takes it (the command line in
//! [`crate::cli`] produces one), and its validation.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;
use conferbot::endpoint::hostile_reason;
use conferbot::{RateSpec, DEFAULT_BASE_URL};

use crate::redis_state::RedisUrl;
use crate::secret::{ApiKey, WebhookSecret};

/// Where the API is mounted by default: `/api/conferbot/external/v1/...`.
pub const DEFAULT_MOUNT: &str = conferbot::BFF_MOUNT;
/// Where webhook deliveries are received by default, under the mount (the
/// core's fact).
pub use conferbot::protocol::bff::WEBHOOK_RECEIVER_PATH as DEFAULT_WEBHOOK_PATH;
/// Where browsers subscribe to live events, under the mount (the core's fact,
/// shared with the client).
pub use conferbot::EVENTS_PATH;
/// Most events kept for `Last-Event-ID` replay by default.
pub const DEFAULT_REPLAY: usize = 1000;
/// Longest cache TTL allowed: dashboards must not show minutes-old data.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(5);

/// Everything the BFF needs to serve.
#[derive(Debug, Clone)]
pub struct BffConfig {
    /// The upstream key; injected into upstream requests only.
    pub api_key: ApiKey,
    /// The API base URL (`https://api-v2.conferbot.com/api/v1`).
    pub upstream: String,
    /// Path prefix the API is served under (`/api/conferbot`).
    pub mount: String,
    /// Origins allowed by CORS and for writes, besides our own
    /// (`https://app.example.com`).
    pub allow_origins: Vec<String>,
    /// Directory served at `/` (the dashboard).
    pub www: Option<PathBuf>,
    /// Directory served at `/pkg/` (the npm package, for the demo).
    pub pkg: Option<PathBuf>,
    /// The upstream's rate limit to shape to.
    pub rate: RateSpec,
    /// Longest a request waits in the rate queue before a `429`.
    pub queue_wait: Duration,
    /// How long GET answers are cached (zero: not cached, still coalesced).
    pub cache_ttl: Duration,
    /// Longest an upstream call may take before a `504`.
    pub upstream_timeout: Duration,
    /// The secret deliveries are signed with; without one the receiver
    /// refuses every delivery (`503`), it never accepts unsigned ones.
    pub webhook_secret: Option<WebhookSecret>,
    /// Absolute path of the webhook receiver; `None`: `{mount}/webhooks/incoming`.
    pub webhook_path: Option<String>,
    /// How far a delivery's signed timestamp may be from now (replays older
    /// than this are refused).
    pub webhook_tolerance: Duration,
    /// How often an idle `{mount}/events` stream gets a `: keepalive` comment.
    pub sse_heartbeat: Duration,
    /// The `retry:` reconnection hint sent to browsers.
    pub sse_retry: Duration,
    /// Events kept for `Last-Event-ID` replay.
    pub event_replay: usize,
    /// Share the limiter, cache, coalescing and events with other replicas
    /// through this Redis; `None`: in-process state.
    pub redis: Option<RedisUrl>,
}

impl BffConfig {
    /// The defaults, for `api_key` against the real API.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            upstream: DEFAULT_BASE_URL.to_owned(),
            mount: DEFAULT_MOUNT.to_owned(),
            allow_origins: Vec::new(),
            www: None,
            pkg: None,
            rate: RateSpec::UPSTREAM,
            queue_wait: Duration::from_secs(10),
            cache_ttl: Duration::from_secs(2),
            upstream_timeout: Duration::from_secs(10),
            webhook_secret: None,
            webhook_path: None,
            webhook_tolerance: Duration::from_secs(300),
            sse_heartbeat: Duration::from_secs(15),
            sse_retry: Duration::from_secs(3),
            event_replay: DEFAULT_REPLAY,
            redis: None,
        }
    }

    /// The receiver's path: `--webhook-path`, or `{mount}/webhooks/incoming`.
    pub fn webhook_path(&self) -> String {
        self.webhook_path
            .clone()
            .unwrap_or_else(|| format!("{}{DEFAULT_WEBHOOK_PATH}", self.mount))
    }

    /// The live events' path: `{mount}/events`.
    pub fn events_path(&self) -> String {
        format!("{}{EVENTS_PATH}", self.mount)
    }

    /// Checks what the types cannot: the mount, the upstream URL, the origins
    /// and the TTL bound.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mount = &self.mount;
        if !plain_path(mount) {
            return Err(ConfigError(format!(
                "--mount must be a plain path like /api/conferbot (letters, digits, - _ . /), got {mount:?}"
            )));
        }
        let hook = self.webhook_path();
        let api = format!("{mount}{}", conferbot::EXTERNAL_PREFIX);
        if !plain_path(&hook)
            || hook == self.events_path()
            || hook == *mount
            || hook.starts_with(&format!("{api}/"))
            || hook == api
            || matches!(hook.as_str(), "/healthz" | "/metrics")
        {
            return Err(ConfigError(format!(
                "--webhook-path must be a plain path like {mount}{DEFAULT_WEBHOOK_PATH}, outside {api}/ and other than {}, got {hook:?}",
                self.events_path()
            )));
        }
        for (flag, value) in [
            ("--webhook-tolerance", self.webhook_tolerance),
            ("--sse-heartbeat", self.sse_heartbeat),
            ("--sse-retry", self.sse_retry),
        ] {
            if value.is_zero() {
                return Err(ConfigError(format!("{flag} must be longer than 0")));
            }
        }
        if !(1..=100_000).contains(&self.event_replay) {
            return Err(ConfigError(format!(
                "--event-replay must be between 1 and 100000, got {}",
                self.event_replay
            )));
        }
        let upstream = reqwest::Url::parse(&self.upstream)
            .map_err(|err| ConfigError(format!("--upstream {:?}: {err}", self.upstream)))?;
        if !matches!(upstream.scheme(), "http" | "https")
            || upstream.query().is_some()
            || !upstream.username().is_empty()
        {
            return Err(ConfigError(format!(
                "--upstream must be an http(s) base URL like {DEFAULT_BASE_URL}, got {:?}",
                self.upstream
            )));
        }
        for origin in &self.allow_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && HeaderValue::from_str(origin).is_ok();
            if !ok {
                return Err(ConfigError(format!(
                    "--allow-origin must look like https://app.example.com (scheme and host, no path), got {origin:?}"
                )));
            }
        }
        if self.cache_ttl > MAX_CACHE_TTL {
            return Err(ConfigError(format!(
                "--cache-ttl must be at most {} s, got {} ms",
                MAX_CACHE_TTL.as_secs(),
                self.cache_ttl.as_millis()
            )));
        }
        if self.upstream_timeout.is_zero() {
            return Err(ConfigError(
                "--upstream-timeout must be longer than 0".into(),
            ));
        }
        Ok(())
    }

    /// The allowed origins as compared at run time (lower case).
    pub(crate) fn normalized_origins(&self) -> Vec<String> {
        self.allow_origins
            .iter()
            .map(|o| o.to_ascii_lowercase())
            .collect()
    }
}

/// An absolute path of letters, digits, `- _ . /`, without tricks or a
/// trailing slash.
fn plain_path(path: &str) -> bool {
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
    path.len() >= 2
        && path.starts_with('/')
        && !path.ends_with('/')
        && plain
        && hostile_reason(path).is_none()
}

/// A configuration the BFF refuses to start with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

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
    fn refuses_bad_mounts_upstreams_origins_and_ttls() {
        for mount in ["", "/", "api", "/api/", "/a/../b", "/a b", "/{x}", "/a%2f"] {
            let c = BffConfig {
                mount: mount.into(),
                ..config()
            };
            assert!(c.validate().is_err(), "{mount}");
        }
        for upstream in [
            "ftp://x",
            "not a url",
            "http://u:p@x/api/v1",
            "http://x/?a=1",
        ] {
            let c = BffConfig {
                upstream: upstream.into(),
                ..config()
            };
            assert!(c.validate().is_err(), "{upstream}");
        }
        let c = BffConfig {
            allow_origins: vec!["https://ok.example".into(), "evil.example".into()],
            ..config()
        };
        assert!(c.validate().is_err());
        let c = BffConfig {
            cache_ttl: Duration::from_secs(6),
            ..config()
        };
        assert!(c.validate().unwrap_err().0.contains("at most 5 s"));
    }

    #[test]
    fn the_webhook_path_defaults_under_the_mount_and_stays_off_the_api() {
        assert_eq!(config().webhook_path(), "/api/conferbot/webhooks/incoming");
        assert_eq!(config().events_path(), "/api/conferbot/events");
        for path in [
            "/api/conferbot/external/v1/hook",
            "/api/conferbot/events",
            "/api/conferbot",
            "/healthz",
            "hooks",
            "/hooks/",
        ] {
            let c = BffConfig {
                webhook_path: Some(path.into()),
                ..config()
            };
            assert!(c.validate().is_err(), "{path}");
        }
        let c = BffConfig {
            webhook_path: Some("/hooks/conferbot".into()),
            ..config()
        };
        assert_eq!(c.validate(), Ok(()));
        let c = BffConfig {
            webhook_tolerance: Duration::ZERO,
            ..config()
        };
        assert!(c.validate().unwrap_err().0.contains("--webhook-tolerance"));
        let c = BffConfig {
            event_replay: 0,
            ..config()
        };
        assert!(c.validate().is_err());
    }
}
