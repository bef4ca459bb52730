//! The command line (and environment) of `conferbot-bff`, and what it takes
//! to start: read the key, or start the embedded sandbox when there is none.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use conferbot::rate::parse_duration;
use conferbot::{RateSpec, DEFAULT_BASE_URL};
use conferbot_sandbox::{RunningSandbox, SandboxConfig};

use crate::config::{BffConfig, ConfigError, DEFAULT_MOUNT, DEFAULT_REPLAY};
use crate::logging::LogFormat;
use crate::redis_state::RedisUrl;
use crate::secret::{ApiKey, WebhookSecret};

/// What `--help` tells after the flags: the live events and scale-out.
const AFTER_HELP: &str = "\
LIVE EVENTS
  Webhooks in: POST {mount}/webhooks/incoming (--webhook-path) takes Conferbot's signed
  deliveries. x-webhook-signature must be the HMAC-SHA256 of the body under the webhook
  secret (CONFERBOT_WEBHOOK_SECRET or --webhook-secret-file; without one every delivery
  is refused with 503), x-webhook-timestamp (Unix seconds or ISO 8601) must match the
  body's and be within --webhook-tolerance. 401 bad signature or stale, 400 unknown
  event, 413 over 64 KiB. Accepted deliveries drop the cached reads they change and are
  answered 200 at once; a retry of one already accepted is not sent twice.
  Events out: GET {mount}/events is a Server-Sent Events stream: `event:` the webhook
  event, `data:` the delivery body {\"event\",\"timestamp\",\"data\"}, `id:` increasing
  by one. Reconnecting with Last-Event-ID replays what was missed (the last
  --event-replay events are kept); `event: resync` means some are gone: reload.
  `: keepalive` every --sse-heartbeat.
  With --sandbox the embedded sandbox signs with a generated secret and delivers to this
  BFF (a webhook for all four events is registered at start); --sandbox-activity 3s
  adds a response to a chatbot of the first page every 3 s, for a live demo.

SCALE-OUT
  --redis redis://host:6379/0 shares, between every replica with the same API key, the
  rate window and its FIFO queue, the upstream's Retry-After pause, the GET cache and
  coalescing (one upstream call for identical reads in flight anywhere), and the event
  log and fan-out (a webhook received by one replica reaches browsers on all). Without
  it, all state is in this process. While Redis is unreachable, /healthz says
  {\"status\":\"degraded\",\"redis\":\"unreachable\"} (still 200), conferbot_bff_redis_up is
  0, and requests that need the Conferbot API get 503 with Retry-After (never unshaped
  traffic); it recovers by itself when Redis is back.";

/// `conferbot-bff`: holds the Conferbot API key and forwards only the
/// operations of the External API, shaped to its rate limit, with a short
/// cache; receives webhooks and streams them to browsers (SSE). Without a key
/// it runs against an embedded sandbox.
// No `Debug`: even redacted, the key has no business in a dump of the flags.
#[derive(Parser)]
#[command(name = "conferbot-bff", version, about, long_about = None, after_help = AFTER_HELP)]
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
    /// The API base URL.
    #[arg(long, value_name = "URL", default_value = DEFAULT_BASE_URL)]
    pub upstream: String,
    /// Start the embedded sandbox on 127.0.0.1 and use it as the upstream
    /// with its Starter key (the default when no key is configured).
    #[arg(long)]
    pub sandbox: bool,
    /// Rate limit of the embedded sandbox.
    #[arg(long, value_name = "RATE", default_value = "60/60s")]
    pub sandbox_rate: RateSpec,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, 8787)))]
    pub listen: SocketAddr,
    /// Path the API is served under.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MOUNT)]
    pub mount: String,
    /// An origin allowed by CORS and for writes (repeatable); none by default.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Serve this directory at `/` (the dashboard).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Serve this directory at `/pkg/` (the npm package).
    #[arg(long, value_name = "DIR")]
    pub pkg: Option<PathBuf>,
    /// The upstream rate limit to shape traffic to.
    #[arg(long, value_name = "RATE", default_value = "60/60s")]
    pub rate: RateSpec,
    /// Longest a request waits for the rate window before a 429.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub queue_wait: Duration,
    /// How long GET answers are cached (at most 5s; 0 disables the cache).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub cache_ttl: Duration,
    /// Longest an upstream call may take before a 504.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
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
    /// Where webhook deliveries are received [default: {mount}/webhooks/incoming].
    #[arg(long, value_name = "PATH")]
    pub webhook_path: Option<String>,
    /// Deliveries whose signed timestamp is further from now are refused (replays).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub webhook_tolerance: Duration,
    /// Interval of `: keepalive` comments on idle event streams.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub sse_heartbeat: Duration,
    /// The `retry:` reconnection hint sent to browsers.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub sse_retry: Duration,
    /// Events kept for Last-Event-ID replay.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPLAY)]
    pub event_replay: usize,
    /// With the embedded sandbox: add a response to a chatbot of the first
    /// page this often (off by default; the demo uses 3s).
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
    /// The embedded sandbox, when it is the upstream.
    pub sandbox: Option<RunningSandbox>,
    /// `--sandbox-activity`, when the sandbox is embedded.
    pub activity: Option<Duration>,
}

/// Why the BFF could not start.
#[derive(Debug)]
pub enum LaunchError {
    /// The key file could not be read, or is empty.
    KeyFile(PathBuf, String),
    /// The webhook secret file could not be read, or is empty.
    SecretFile(PathBuf, String),
    /// The embedded sandbox could not start.
    Sandbox(std::io::Error),
    /// The configuration was refused.
    Config(ConfigError),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::KeyFile(path, why) => write!(f, "--api-key-file {}: {why}", path.display()),
            Self::SecretFile(path, why) => {
                write!(f, "--webhook-secret-file {}: {why}", path.display())
            }
            Self::Sandbox(err) => write!(f, "embedded sandbox: {err}"),
            Self::Config(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for LaunchError {}

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
        let use_sandbox = self.sandbox || key.is_none();
        // The embedded sandbox signs with ours; one is made up if none is set.
        let webhook_secret = match webhook_secret {
            None if use_sandbox => Some(WebhookSecret::generate()),
            secret => secret,
        };
        let sandbox_key = ApiKey::new(conferbot_sandbox::keys::STARTER)
            .ok_or(LaunchError::Sandbox(std::io::ErrorKind::InvalidData.into()))?;
        let mut config = BffConfig {
            api_key: match (&key, use_sandbox) {
                (Some(key), false) => key.clone(),
                _ => sandbox_key,
            },
            upstream: self.upstream,
            mount: self.mount,
            allow_origins: self.allow_origin,
            www: self.www,
            pkg: self.pkg,
            rate: self.rate,
            queue_wait: self.queue_wait,
            cache_ttl: self.cache_ttl,
            upstream_timeout: self.upstream_timeout,
            webhook_secret,
            webhook_path: self.webhook_path,
            webhook_tolerance: self.webhook_tolerance,
            sse_heartbeat: self.sse_heartbeat,
            sse_retry: self.sse_retry,
            event_replay: self.event_replay,
            redis: self.redis,
        };
        config.validate().map_err(LaunchError::Config)?;
        let sandbox = if use_sandbox {
            announce_sandbox(key.is_some(), self.sandbox);
            let secret = config
                .webhook_secret
                .as_ref()
                .map(|s| s.expose().to_owned());
            let sandbox = start_sandbox(self.sandbox_rate, secret).await?;
            config.upstream = sandbox.base_url();
            Some(sandbox)
        } else {
            None
        };
        let activity = self.sandbox_activity.filter(|_| sandbox.is_some());
        Ok(Launch {
            config,
            listen: self.listen,
            sandbox,
            activity,
        })
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

/// Starts the sandbox in this process on a free loopback port, signing
/// deliveries with `webhook_secret`.
async fn start_sandbox(
    rate: RateSpec,
    webhook_secret: Option<String>,
) -> Result<RunningSandbox, LaunchError> {
    let config = SandboxConfig {
        rate,
        webhook_secret,
        ..SandboxConfig::default()
    };
    RunningSandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .map_err(LaunchError::Sandbox)
}

/// Says on stderr, unmissably, that the data is not real.
fn announce_sandbox(key_configured: bool, asked: bool) {
    let why = match (asked, key_configured) {
        (true, true) => "--sandbox given: the configured API key is NOT used",
        (true, false) => "--sandbox given",
        (false, _) => "no API key configured (CONFERBOT_API_KEY or --api-key-file)",
    };
    eprintln!(
        "\n*** conferbot-bff: {why}.\n*** Serving the EMBEDDED SANDBOX (generated data, Starter plan), NOT the real Conferbot API.\n"
    );
}
