//! The command line (and environment) of `conferbot-bff`, and what it takes
//! to start: read the key, or start the embedded sandbox when there is none
//! (feature `sandbox`; without it, no key is an error).
//!
//! The policy's flags take their names, defaults and help from
//! [`conferbot_policy::settings::flags`], the one place they are stated.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use conferbot::rate::parse_duration;
use conferbot::RateSpec;
use conferbot_policy::settings::flags;
use conferbot_policy::{ConfigError, Settings};

use crate::config::BffConfig;
use crate::logging::LogFormat;
use crate::redis_state::RedisUrl;
use crate::secret::{ApiKey, WebhookSecret};

/// What `--help` tells after the flags: the live events and scale-out.
const LIVE_EVENTS_HELP: &str = "\
LIVE EVENTS
  Webhooks in: POST {mount}/webhooks/incoming (--webhook-path) takes Conferbot's signed
  deliveries. x-webhook-signature must be the HMAC-SHA256 of the body under the webhook
  secret (CONFERBOT_WEBHOOK_SECRET or --webhook-secret-file; without one every delivery
  is refused with 503), x-webhook-timestamp (Unix seconds or ISO 8601) must match the
  body's and be within --webhook-tolerance. 401 bad signature or stale, 400 unknown
  event, 413 over 64 KiB. Accepted deliveries drop the cached reads they change and are
  answered 200 at once; a retry of one already accepted is not sent twice.
  Events out: GET {mount}/events is a Server-Sent Events stream: `event:` the webhook
  event, `data:` the delivery body (the flat {\"event\",\"botId\",\"responseId\",...,
  \"timestamp\"} Conferbot sent), `id:` increasing by one. Reconnecting with
  Last-Event-ID replays what was missed (the last --event-replay events are kept);
  `event: resync` means some are gone: reload. `: keepalive` every --sse-heartbeat.";

/// The sandbox's part of the live events help.
#[cfg(feature = "sandbox")]
const SANDBOX_HELP: &str = "
  With --sandbox the embedded sandbox signs with a generated secret and delivers to this
  BFF (a webhook for all four events is registered at start); --sandbox-activity 3s
  adds a response to a chatbot of the first page every 3 s, for a live demo.";
#[cfg(not(feature = "sandbox"))]
const SANDBOX_HELP: &str = "
  This build has no embedded sandbox: a key is required.";

const SCALE_OUT_HELP: &str = "

SCALE-OUT
  --redis redis://host:6379/0 shares, between every replica with the same API key, the
  rate window and its FIFO queue, the upstream's Retry-After pause, the GET cache and
  coalescing (one upstream call for identical reads in flight anywhere), and the event
  log and fan-out (a webhook received by one replica reaches browsers on all). Without
  it, all state is in this process. While Redis is unreachable, /healthz says
  {\"status\":\"degraded\",\"redis\":\"unreachable\"} (still 200), conferbot_bff_redis_up is
  0, and requests that need the Conferbot API get 503 with Retry-After (never unshaped
  traffic); it recovers by itself when Redis is back.";

fn after_help() -> String {
    format!("{LIVE_EVENTS_HELP}{SANDBOX_HELP}{SCALE_OUT_HELP}")
}

/// `conferbot-bff`: holds the Conferbot API key and forwards only the
/// operations of the External API, shaped to its rate limit, with a short
/// cache; receives webhooks and streams them to browsers (SSE). Without a key
/// it runs against an embedded sandbox (when built with it).
// No `Debug`: even redacted, the key has no business in a dump of the flags.
#[derive(Parser)]
#[command(name = "conferbot-bff", version, about, long_about = None, after_help = after_help())]
pub struct Cli {
    /// The Conferbot API key. Prefer the environment variable or
    /// --api-key-file: a flag is visible to other users in `ps`.
    #[arg(
        long = "api-key",
        env = "CONFERBOT_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = parse_key
    )]
    pub api_key: Option<ApiKey>,
    /// Read the API key from this file (surrounding whitespace ignored); it
    /// wins over CONFERBOT_API_KEY.
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
    /// `--upstream` ([`flags::UPSTREAM`]).
    #[arg(long = flags::UPSTREAM.name, value_name = "URL", default_value = flags::UPSTREAM.text, help = flags::UPSTREAM.doc)]
    pub upstream: String,
    /// Start the embedded sandbox on 127.0.0.1 and use it as the upstream
    /// with its Starter key (the default when no key is configured).
    #[cfg(feature = "sandbox")]
    #[arg(long)]
    pub sandbox: bool,
    /// Rate limit of the embedded sandbox.
    #[cfg(feature = "sandbox")]
    #[arg(long, value_name = "RATE", default_value = flags::RATE.text)]
    pub sandbox_rate: RateSpec,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, 8787)))]
    pub listen: SocketAddr,
    /// `--mount` ([`flags::MOUNT`]).
    #[arg(long = flags::MOUNT.name, value_name = "PATH", default_value = flags::MOUNT.text, help = flags::MOUNT.doc)]
    pub mount: String,
    /// `--allow-origin` ([`flags::ALLOW_ORIGIN`]).
    #[arg(long = flags::ALLOW_ORIGIN.name, value_name = "ORIGIN", help = flags::ALLOW_ORIGIN.doc)]
    pub allow_origin: Vec<String>,
    /// Serve this directory at `/` (the dashboard).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Serve this directory at `/pkg/` (the npm package).
    #[arg(long, value_name = "DIR")]
    pub pkg: Option<PathBuf>,
    /// `--rate` ([`flags::RATE`]).
    #[arg(long = flags::RATE.name, value_name = "RATE", default_value = flags::RATE.text, help = flags::RATE.doc)]
    pub rate: RateSpec,
    /// `--queue-wait` ([`flags::QUEUE_WAIT`]).
    #[arg(long = flags::QUEUE_WAIT.name, value_name = "DURATION", default_value = flags::QUEUE_WAIT.text, help = flags::QUEUE_WAIT.doc, value_parser = parse_duration)]
    pub queue_wait: Duration,
    /// `--cache-ttl` ([`flags::CACHE_TTL`]).
    #[arg(long = flags::CACHE_TTL.name, value_name = "DURATION", default_value = flags::CACHE_TTL.text, help = flags::CACHE_TTL.doc, value_parser = parse_duration)]
    pub cache_ttl: Duration,
    /// `--upstream-timeout` ([`flags::UPSTREAM_TIMEOUT`]).
    #[arg(long = flags::UPSTREAM_TIMEOUT.name, value_name = "DURATION", default_value = flags::UPSTREAM_TIMEOUT.text, help = flags::UPSTREAM_TIMEOUT.doc, value_parser = parse_duration)]
    pub upstream_timeout: Duration,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// The secret webhook deliveries are signed with. Prefer the environment
    /// variable or --webhook-secret-file (a flag shows in `ps`).
    #[arg(
        long = "webhook-secret",
        env = "CONFERBOT_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        value_parser = parse_webhook_secret
    )]
    pub webhook_secret: Option<WebhookSecret>,
    /// Read the webhook secret from this file; it wins over CONFERBOT_WEBHOOK_SECRET.
    #[arg(long, value_name = "PATH")]
    pub webhook_secret_file: Option<PathBuf>,
    /// `--webhook-path` ([`flags::WEBHOOK_PATH`]).
    #[arg(long = flags::WEBHOOK_PATH.name, value_name = "PATH", help = flags::WEBHOOK_PATH.doc)]
    pub webhook_path: Option<String>,
    /// `--webhook-tolerance` ([`flags::WEBHOOK_TOLERANCE`]).
    #[arg(long = flags::WEBHOOK_TOLERANCE.name, value_name = "DURATION", default_value = flags::WEBHOOK_TOLERANCE.text, help = flags::WEBHOOK_TOLERANCE.doc, value_parser = parse_duration)]
    pub webhook_tolerance: Duration,
    /// `--sse-heartbeat` ([`flags::SSE_HEARTBEAT`]).
    #[arg(long = flags::SSE_HEARTBEAT.name, value_name = "DURATION", default_value = flags::SSE_HEARTBEAT.text, help = flags::SSE_HEARTBEAT.doc, value_parser = parse_duration)]
    pub sse_heartbeat: Duration,
    /// `--sse-retry` ([`flags::SSE_RETRY`]).
    #[arg(long = flags::SSE_RETRY.name, value_name = "DURATION", default_value = flags::SSE_RETRY.text, help = flags::SSE_RETRY.doc, value_parser = parse_duration)]
    pub sse_retry: Duration,
    /// `--event-replay` ([`flags::EVENT_REPLAY`]).
    #[arg(long = flags::EVENT_REPLAY.name, value_name = "N", default_value = flags::EVENT_REPLAY.text, help = flags::EVENT_REPLAY.doc)]
    pub event_replay: usize,
    /// With the embedded sandbox: add a response to a chatbot of the first
    /// page this often (off by default; the demo uses 3s).
    #[cfg(feature = "sandbox")]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub sandbox_activity: Option<Duration>,
    /// Share the limiter, cache, coalescing and events with other replicas
    /// through this Redis (default: in-process state).
    #[arg(long, env = "CONFERBOT_REDIS_URL", value_name = "URL", value_parser = parse_redis)]
    pub redis: Option<RedisUrl>,
}

fn parse_key(raw: &str) -> Result<ApiKey, String> {
    ApiKey::new(raw).ok_or_else(|| "the API key is empty".to_owned())
}

fn parse_webhook_secret(raw: &str) -> Result<WebhookSecret, String> {
    WebhookSecret::new(raw).ok_or_else(|| "the webhook secret is empty".to_owned())
}

fn parse_redis(raw: &str) -> Result<RedisUrl, String> {
    RedisUrl::new(raw)
}

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
        let settings = Settings {
            upstream: self.upstream,
            mount: self.mount,
            allow_origins: self.allow_origin,
            rate: self.rate,
            queue_wait: self.queue_wait,
            cache_ttl: self.cache_ttl,
            upstream_timeout: self.upstream_timeout,
            webhook_path: self.webhook_path,
            webhook_tolerance: self.webhook_tolerance,
            sse_heartbeat: self.sse_heartbeat,
            sse_retry: self.sse_retry,
            event_replay: self.event_replay,
        };
        match upstream {
            Upstream::Keyed(api_key) => {
                let config = BffConfig {
                    api_key,
                    settings,
                    www: self.www,
                    pkg: self.pkg,
                    webhook_secret,
                    redis: self.redis,
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
                    api_key: embedded::key()?,
                    settings,
                    www: self.www,
                    pkg: self.pkg,
                    // The embedded sandbox signs with ours; one is made up if none is set.
                    webhook_secret: webhook_secret.or_else(|| Some(WebhookSecret::generate())),
                    redis: self.redis,
                };
                config.validate().map_err(LaunchError::Config)?;
                embedded::announce(key_configured, self.sandbox);
                let (config, embedded) =
                    embedded::Embedded::start(config, self.sandbox_rate, self.sandbox_activity)
                        .await?;
                Ok(Launch {
                    config,
                    listen: self.listen,
                    embedded: Some(embedded),
                })
            }
        }
    }
}

impl Launch {
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

fn read_secret_file(path: &PathBuf) -> Result<WebhookSecret, LaunchError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|err| LaunchError::SecretFile(path.clone(), err.to_string()))?;
    WebhookSecret::new(raw)
        .ok_or_else(|| LaunchError::SecretFile(path.clone(), "the file is empty".into()))
}

/// The embedded sandbox (feature `sandbox`).
#[cfg(feature = "sandbox")]
mod embedded {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Duration;

    use conferbot::RateSpec;
    use conferbot_sandbox::{RunningSandbox, SandboxConfig};

    use super::LaunchError;
    use crate::config::BffConfig;
    use crate::secret::ApiKey;

    /// The sandbox, and `--sandbox-activity`.
    #[derive(Debug)]
    pub(super) struct Embedded {
        pub(super) sandbox: RunningSandbox,
        pub(super) activity: Option<Duration>,
    }

    /// The sandbox's Starter key, which the BFF then uses.
    pub(super) fn key() -> Result<ApiKey, LaunchError> {
        ApiKey::new(conferbot_sandbox::keys::STARTER)
            .ok_or(LaunchError::Sandbox(std::io::ErrorKind::InvalidData.into()))
    }

    impl Embedded {
        /// Starts the sandbox in this process on a free loopback port, signing
        /// deliveries with the config's webhook secret, and points `config`
        /// at it.
        pub(super) async fn start(
            mut config: BffConfig,
            rate: RateSpec,
            activity: Option<Duration>,
        ) -> Result<(BffConfig, Self), LaunchError> {
            let sandbox_config = SandboxConfig {
                rate,
                webhook_secret: config
                    .webhook_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                ..SandboxConfig::default()
            };
            let sandbox =
                RunningSandbox::start(sandbox_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                    .await
                    .map_err(LaunchError::Sandbox)?;
            config.settings.upstream = sandbox.base_url();
            Ok((config, Self { sandbox, activity }))
        }
    }

    /// Says on stderr, unmissably, that the data is not real.
    pub(super) fn announce(key_configured: bool, asked: bool) {
        let why = match (asked, key_configured) {
            (true, true) => "--sandbox given: the configured API key is NOT used",
            (true, false) => "--sandbox given",
            (false, _) => "no API key configured (CONFERBOT_API_KEY or --api-key-file)",
        };
        eprintln!(
            "\n*** conferbot-bff: {why}.\n*** Serving the EMBEDDED SANDBOX (generated data, Starter plan), NOT the real Conferbot API.\n"
        );
    }
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

    #[test]
    fn the_flags_defaults_are_the_policys() {
        let cli = Cli::try_parse_from(["conferbot-bff"]).unwrap();
        let defaults = Settings::default();
        assert_eq!(cli.upstream, defaults.upstream);
        assert_eq!(cli.mount, defaults.mount);
        assert_eq!(cli.rate, defaults.rate);
        assert_eq!(cli.queue_wait, defaults.queue_wait);
        assert_eq!(cli.cache_ttl, defaults.cache_ttl);
        assert_eq!(cli.upstream_timeout, defaults.upstream_timeout);
        assert_eq!(cli.webhook_path, defaults.webhook_path);
        assert_eq!(cli.webhook_tolerance, defaults.webhook_tolerance);
        assert_eq!(cli.sse_heartbeat, defaults.sse_heartbeat);
        assert_eq!(cli.sse_retry, defaults.sse_retry);
        assert_eq!(cli.event_replay, defaults.event_replay);
        assert!(cli.allow_origin.is_empty());
    }
}
