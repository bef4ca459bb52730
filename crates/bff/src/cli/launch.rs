//! What it takes to start: read the key (or start the embedded sandbox when
//! there is none, feature `sandbox`; without it, no key is an error) and
//! build the configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use conferbot_policy::{ConfigError, Settings};

#[cfg(feature = "sandbox")]
use super::embedded;
use super::Cli;
use crate::config::BffConfig;
use crate::metrics::access::{MetricsListener, MetricsToken};
use crate::secret::{ApiKey, WebhookSecret};
use crate::upstream::UpstreamCa;

/// A configuration ready to serve, with the embedded sandbox if one was started.
#[derive(Debug)]
pub struct Launch {
    /// The BFF's configuration.
    pub config: BffConfig,
    /// Where to listen.
    pub listen: SocketAddr,
    #[cfg(feature = "sandbox")]
    embedded: Option<embedded::Embedded>,
}

/// Why the BFF could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The key file could not be read, or is empty.
    #[error("--api-key-file {path}: {1}", path = .0.display())]
    KeyFile(PathBuf, String),
    /// The webhook secret file could not be read, or is empty.
    #[error("--webhook-secret-file {path}: {1}", path = .0.display())]
    SecretFile(PathBuf, String),
    /// No key is configured, and this build has no embedded sandbox.
    #[error(
        "no API key configured: set CONFERBOT_API_KEY or --api-key-file (this build has no embedded sandbox)"
    )]
    NoKey,
    /// The `/metrics` token file could not be read, or is empty.
    #[error("--metrics-token-file {path}: {1}", path = .0.display())]
    MetricsTokenFile(PathBuf, String),
    /// The `/metrics` address could not be bound.
    #[error("--metrics-listen {0}: {1}")]
    MetricsListen(SocketAddr, std::io::Error),
    /// The embedded sandbox could not start.
    #[error("embedded sandbox: {0}")]
    Sandbox(std::io::Error),
    /// The configuration was refused.
    #[error("{0}")]
    Config(ConfigError),
}

/// Where requests go: the configured key's API, or the embedded sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Upstream {
    /// The configured upstream, with this key.
    Keyed(ApiKey),
    /// The embedded sandbox; whether a key was configured (and is unused).
    Sandbox { key_configured: bool },
}

/// Chooses the upstream: the sandbox when asked for, or when there is no
/// key and this build has one (`sandbox_built`); no key otherwise is an error.
fn choose_upstream(
    key: Option<ApiKey>,
    sandbox_asked: bool,
    sandbox_built: bool,
) -> Result<Upstream, LaunchError> {
    match (key, sandbox_asked && sandbox_built) {
        (key, true) => Ok(Upstream::Sandbox {
            key_configured: key.is_some(),
        }),
        (Some(key), false) => Ok(Upstream::Keyed(key)),
        (None, false) if sandbox_built => Ok(Upstream::Sandbox {
            key_configured: false,
        }),
        (None, false) => Err(LaunchError::NoKey),
    }
}

impl Cli {
    /// Reads the key (or starts the embedded sandbox) and builds the config.
    /// The flags are checked before the sandbox starts.
    pub async fn launch(self) -> Result<Launch, LaunchError> {
        let key = match (&self.api_key_file, &self.api_key) {
            (Some(path), _) => Some(read_key_file(path)?),
            (None, key) => key.clone(),
        };
        let webhook_secret = match (&self.webhook_secret_file, &self.webhook_secret) {
            (Some(path), _) => Some(read_secret_file(path)?),
            (None, secret) => secret.clone(),
        };
        #[cfg(feature = "sandbox")]
        let sandbox_asked = self.sandbox;
        #[cfg(not(feature = "sandbox"))]
        let sandbox_asked = false;
        let upstream = choose_upstream(key, sandbox_asked, cfg!(feature = "sandbox"))?;
        let upstream_ca = match &self.upstream_ca {
            Some(path) => Some(UpstreamCa::from_pem_file(path).map_err(LaunchError::Config)?),
            None => None,
        };
        let metrics_listen = self.metrics_listen;
        let metrics_token = match (&self.metrics_token_file, &self.metrics_token) {
            (Some(path), _) => Some(read_metrics_token_file(path)?),
            (None, token) => token.clone(),
        };
        let settings = Settings {
            upstream: self.upstream,
            mount: self.mount,
            allow_origins: self.allow_origin,
            rate: self.rate,
            queue_wait: self.queue_wait,
            cache_ttl: self.cache_ttl,
            cache_stale: self.cache_stale,
            cache_events: self.cache_events,
            monthly_budget: self.monthly_budget,
            refresh_budget: self.refresh_budget,
            upstream_timeout: self.upstream_timeout,
            webhook_path: self.webhook_path,
            webhook_tolerance: self.webhook_tolerance,
            sse_heartbeat: self.sse_heartbeat,
            sse_retry: self.sse_retry,
            event_replay: self.event_replay,
            allow_hosts: self.allow_host,
            trusted_proxies: self.trusted_proxy,
            client_share: self.client_share,
            client_monthly_calls: self.client_monthly_calls,
            auth_url: self.auth_url,
            auth_user_header: self.auth_user_header,
            auth_timeout: self.auth_timeout,
            allow_local_webhooks: self.allow_local_webhooks,
            connections: self.connections.settings(),
        };
        let mut launch = match upstream {
            Upstream::Keyed(api_key) => {
                let config = BffConfig {
                    api_key,
                    settings,
                    www: self.www,
                    pkg: self.pkg,
                    webhook_secret,
                    redis: self.redis,
                    listen: Some(self.listen),
                    upstream_ca,
                    metrics_token,
                    metrics_listener: None,
                };
                config.validate().map_err(LaunchError::Config)?;
                Ok(Launch {
                    config,
                    listen: self.listen,
                    #[cfg(feature = "sandbox")]
                    embedded: None,
                })
            }
            #[cfg(not(feature = "sandbox"))]
            Upstream::Sandbox { .. } => Err(LaunchError::NoKey),
            #[cfg(feature = "sandbox")]
            Upstream::Sandbox { key_configured } => {
                let config = BffConfig {
                    api_key: embedded::key().map_err(LaunchError::Sandbox)?,
                    settings,
                    www: self.www,
                    pkg: self.pkg,
                    // The embedded sandbox signs with ours; one is made up if none is set.
                    webhook_secret: webhook_secret.or_else(|| Some(WebhookSecret::generate())),
                    redis: self.redis,
                    listen: Some(self.listen),
                    upstream_ca,
                    metrics_token,
                    metrics_listener: None,
                };
                config.validate().map_err(LaunchError::Config)?;
                embedded::announce(key_configured, self.sandbox);
                let (config, embedded) =
                    embedded::Embedded::start(config, self.sandbox_rate, self.sandbox_activity)
                        .await
                        .map_err(LaunchError::Sandbox)?;
                Ok(Launch {
                    config,
                    listen: self.listen,
                    embedded: Some(embedded),
                })
            }
        }?;
        if let Some(addr) = metrics_listen {
            let listener =
                MetricsListener::bind(addr).map_err(|err| LaunchError::MetricsListen(addr, err))?;
            launch.config.metrics_listener = Some(listener);
        }
        Ok(launch)
    }
}

impl Launch {
    /// Where `/metrics` is served apart (`--metrics-listen`), once bound.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.config
            .metrics_listener
            .as_ref()
            .map(MetricsListener::addr)
    }

    /// Where the embedded sandbox serves, when it is the upstream.
    pub fn sandbox_addr(&self) -> Option<SocketAddr> {
        #[cfg(feature = "sandbox")]
        if let Some(embedded) = &self.embedded {
            return Some(embedded.sandbox.addr());
        }
        None
    }

    /// With the embedded sandbox and the BFF listening on `addr`: registers
    /// the BFF as the sandbox's webhook receiver and, with
    /// `--sandbox-activity`, simulates responses. The task runs until aborted.
    pub fn start_live_sandbox(&self, addr: SocketAddr) -> Option<tokio::task::JoinHandle<()>> {
        #[cfg(feature = "sandbox")]
        if let Some(embedded) = &self.embedded {
            return Some(crate::live_sandbox::start(
                addr,
                &self.config,
                embedded.sandbox.admin_url(),
                embedded.activity,
            ));
        }
        let _ = addr;
        None
    }

    /// Splits the configuration to serve from the embedded sandbox (if any),
    /// to stop after serving.
    pub fn into_parts(self) -> (BffConfig, EmbeddedSandbox) {
        #[cfg(feature = "sandbox")]
        let sandbox = EmbeddedSandbox(self.embedded.map(|e| e.sandbox));
        #[cfg(not(feature = "sandbox"))]
        let sandbox = EmbeddedSandbox(());
        (self.config, sandbox)
    }
}

/// The embedded sandbox while the BFF serves (nothing without one).
#[derive(Debug)]
pub struct EmbeddedSandbox(
    #[cfg(feature = "sandbox")] Option<conferbot_sandbox::RunningSandbox>,
    #[cfg(not(feature = "sandbox"))] (),
);

impl EmbeddedSandbox {
    /// Stops the sandbox, if one runs.
    pub async fn shutdown(self) {
        #[cfg(feature = "sandbox")]
        if let Some(sandbox) = self.0 {
            sandbox.shutdown().await;
        }
    }
}

fn read_key_file(path: &PathBuf) -> Result<ApiKey, LaunchError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|err| LaunchError::KeyFile(path.clone(), err.to_string()))?;
    ApiKey::new(raw).ok_or_else(|| LaunchError::KeyFile(path.clone(), "the file is empty".into()))
}

fn read_metrics_token_file(path: &PathBuf) -> Result<MetricsToken, LaunchError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|err| LaunchError::MetricsTokenFile(path.clone(), err.to_string()))?;
    MetricsToken::new(raw).ok_or_else(|| {
        LaunchError::MetricsTokenFile(
            path.clone(),
            "the file is empty or holds spaces or control characters".into(),
        )
    })
}

fn read_secret_file(path: &PathBuf) -> Result<WebhookSecret, LaunchError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|err| LaunchError::SecretFile(path.clone(), err.to_string()))?;
    WebhookSecret::new(raw)
        .ok_or_else(|| LaunchError::SecretFile(path.clone(), "the file is empty".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::new("sk-live-1").unwrap()
    }

    #[test]
    fn without_a_sandbox_build_a_missing_key_is_refused() {
        let err = choose_upstream(None, false, false).unwrap_err();
        assert!(matches!(err, LaunchError::NoKey));
        assert!(err.to_string().contains("CONFERBOT_API_KEY"), "{err}");
        assert_eq!(
            choose_upstream(Some(key()), false, false).unwrap(),
            Upstream::Keyed(key())
        );
        // A request for the sandbox cannot be honoured without one: the key is used.
        assert_eq!(
            choose_upstream(Some(key()), true, false).unwrap(),
            Upstream::Keyed(key())
        );
    }

    #[test]
    fn with_a_sandbox_build_no_key_or_asking_starts_it() {
        assert_eq!(
            choose_upstream(None, false, true).unwrap(),
            Upstream::Sandbox {
                key_configured: false
            }
        );
        assert_eq!(
            choose_upstream(Some(key()), true, true).unwrap(),
            Upstream::Sandbox {
                key_configured: true
            }
        );
        assert_eq!(
            choose_upstream(Some(key()), false, true).unwrap(),
            Upstream::Keyed(key())
        );
    }
}
