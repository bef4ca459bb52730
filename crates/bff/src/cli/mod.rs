//! The command line (and environment) of `conferbot-bff`.
//!
//! The policy's flags take their names, defaults and help from
//! [`conferbot_policy::settings::flags`], the one place they are stated.
//!
//! - [`launch`]: what it takes to start: read the key, or start the embedded
//!   sandbox when there is none (feature `sandbox`; without it, no key is an
//!   error).
//! - `embedded` (feature `sandbox`): the embedded sandbox.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use conferbot::rate::parse_duration;
use conferbot::RateSpec;
use conferbot_policy::quota::MonthlyBudget;
use conferbot_policy::refresh_budget::RefreshBudget;
use conferbot_policy::settings::{flags, parse_percent, CacheEvents};

use crate::logging::LogFormat;
use crate::metrics::access::MetricsToken;
use crate::redis_state::RedisUrl;
use crate::secret::{ApiKey, WebhookSecret};

mod connections;
#[cfg(feature = "sandbox")]
mod embedded;
pub(crate) mod launch;

pub use connections::ConnectionArgs;

/// What `--help` tells after the flags: the live events and scale-out.
const LIVE_EVENTS_HELP: &str = "\
LIVE EVENTS
  Webhooks in: POST {mount}/webhooks/incoming (--webhook-path) takes Conferbot's signed
  deliveries. x-webhook-signature must be the HMAC-SHA256 of the body under the webhook
  secret (CONFERBOT_WEBHOOK_SECRET or --webhook-secret-file; without one every delivery
  is refused with 503), the body must carry its signed timestamp (ISO 8601) and
  x-webhook-timestamp (Unix seconds or ISO 8601) must match it, within
  --webhook-tolerance. 401 bad signature, no or stale timestamp, 400 unknown event, 413
  over 64 KiB. Accepted deliveries are applied to the cached reads (a new response adds 1
  to its chatbot's responseCount in place; --cache-events) and answered 200 at once; a
  retry or replay of one already accepted (its MAC in any spelling, sha256= or not) is
  answered {\"duplicate\":true} on any replica, neither applied nor sent twice.
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
    format!(
        "{LIVE_EVENTS_HELP}{SANDBOX_HELP}{SCALE_OUT_HELP}{}",
        connections::LIMITS_HELP
    )
}

/// `conferbot-bff`: holds the Conferbot API key and forwards only the
/// operations of the External API, shaped to its rate limit, with a cache
/// that webhooks keep current and a monthly budget; receives webhooks and
/// streams them to browsers (SSE). Without a key
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
    /// `--upstream-ca` ([`flags::UPSTREAM_CA`]).
    #[arg(long = flags::UPSTREAM_CA.name, value_name = "PEM", help = flags::UPSTREAM_CA.doc)]
    pub upstream_ca: Option<PathBuf>,
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
    /// `--metrics-listen` ([`flags::METRICS_LISTEN`]).
    #[arg(long = flags::METRICS_LISTEN.name, value_name = "ADDR", help = flags::METRICS_LISTEN.doc)]
    pub metrics_listen: Option<SocketAddr>,
    /// The `/metrics` bearer token ([`flags::METRICS_TOKEN_ENV`]); prefer
    /// the environment or the file (a flag shows in `ps`).
    #[arg(
        long = "metrics-token",
        env = flags::METRICS_TOKEN_ENV,
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = parse_metrics_token
    )]
    pub metrics_token: Option<MetricsToken>,
    /// `--metrics-token-file` ([`flags::METRICS_TOKEN_FILE`]); it wins over
    /// the environment.
    #[arg(long = flags::METRICS_TOKEN_FILE.name, value_name = "PATH", help = flags::METRICS_TOKEN_FILE.doc)]
    pub metrics_token_file: Option<PathBuf>,
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
    /// `--cache-stale` ([`flags::CACHE_STALE`]).
    #[arg(long = flags::CACHE_STALE.name, value_name = "DURATION", default_value = flags::CACHE_STALE.text, help = flags::CACHE_STALE.doc, value_parser = parse_duration)]
    pub cache_stale: Duration,
    /// `--cache-events` ([`flags::CACHE_EVENTS`]).
    #[arg(long = flags::CACHE_EVENTS.name, value_name = "patch|drop", default_value = flags::CACHE_EVENTS.text, help = flags::CACHE_EVENTS.doc)]
    pub cache_events: CacheEvents,
    /// `--monthly-budget` ([`flags::MONTHLY_BUDGET`]).
    #[arg(long = flags::MONTHLY_BUDGET.name, env = "CONFERBOT_MONTHLY_BUDGET", value_name = "CALLS|PERCENT%", help = flags::MONTHLY_BUDGET.doc)]
    pub monthly_budget: Option<MonthlyBudget>,
    /// `--refresh-budget` ([`flags::REFRESH_BUDGET`]).
    #[arg(long = flags::REFRESH_BUDGET.name, env = "CONFERBOT_REFRESH_BUDGET", value_name = "CALLS|PERCENT%|off", default_value = flags::REFRESH_BUDGET.text, help = flags::REFRESH_BUDGET.doc)]
    pub refresh_budget: RefreshBudget,
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
    /// `--allow-host` ([`flags::ALLOW_HOST`]).
    #[arg(long = flags::ALLOW_HOST.name, value_name = "HOST", help = flags::ALLOW_HOST.doc)]
    pub allow_host: Vec<String>,
    /// `--trusted-proxy` ([`flags::TRUSTED_PROXY`]).
    #[arg(long = flags::TRUSTED_PROXY.name, value_name = "CIDR", help = flags::TRUSTED_PROXY.doc)]
    pub trusted_proxy: Vec<String>,
    /// `--client-share` ([`flags::CLIENT_SHARE`]).
    #[arg(long = flags::CLIENT_SHARE.name, value_name = "PERCENT", default_value = flags::CLIENT_SHARE.text, help = flags::CLIENT_SHARE.doc, value_parser = parse_percent)]
    pub client_share: u8,
    /// `--client-monthly-calls` ([`flags::CLIENT_MONTHLY_CALLS`]).
    #[arg(long = flags::CLIENT_MONTHLY_CALLS.name, value_name = "N", help = flags::CLIENT_MONTHLY_CALLS.doc)]
    pub client_monthly_calls: Option<u64>,
    /// `--auth-url` ([`flags::AUTH_URL`]).
    #[arg(long = flags::AUTH_URL.name, value_name = "URL", help = flags::AUTH_URL.doc)]
    pub auth_url: Option<String>,
    /// `--auth-user-header` ([`flags::AUTH_USER_HEADER`]).
    #[arg(long = flags::AUTH_USER_HEADER.name, value_name = "NAME", default_value = flags::AUTH_USER_HEADER.text, help = flags::AUTH_USER_HEADER.doc)]
    pub auth_user_header: String,
    /// `--auth-timeout` ([`flags::AUTH_TIMEOUT`]).
    #[arg(long = flags::AUTH_TIMEOUT.name, value_name = "DURATION", default_value = flags::AUTH_TIMEOUT.text, help = flags::AUTH_TIMEOUT.doc, value_parser = parse_duration)]
    pub auth_timeout: Duration,
    /// `--allow-local-webhooks` ([`flags::ALLOW_LOCAL_WEBHOOKS`]).
    #[arg(long = flags::ALLOW_LOCAL_WEBHOOKS.name, help = flags::ALLOW_LOCAL_WEBHOOKS.doc)]
    pub allow_local_webhooks: bool,
    /// The connection limits (README, "Limits").
    #[command(flatten, next_help_heading = "Limits")]
    pub connections: ConnectionArgs,
}

fn parse_key(raw: &str) -> Result<ApiKey, String> {
    ApiKey::new(raw).ok_or_else(|| "the API key is empty".to_owned())
}

fn parse_webhook_secret(raw: &str) -> Result<WebhookSecret, String> {
    WebhookSecret::new(raw).ok_or_else(|| "the webhook secret is empty".to_owned())
}

fn parse_metrics_token(raw: &str) -> Result<MetricsToken, String> {
    MetricsToken::new(raw).ok_or_else(|| {
        "the metrics token is empty or holds spaces or control characters".to_owned()
    })
}

fn parse_redis(raw: &str) -> Result<RedisUrl, String> {
    RedisUrl::new(raw)
}

#[cfg(test)]
mod tests {
    use conferbot_policy::Settings;

    use super::*;

    #[test]
    fn the_flags_defaults_are_the_policys() {
        let cli = Cli::try_parse_from(["conferbot-bff"]).unwrap();
        let defaults = Settings::default();
        assert_eq!(cli.upstream, defaults.upstream);
        assert_eq!(cli.mount, defaults.mount);
        assert_eq!(cli.rate, defaults.rate);
        assert_eq!(cli.queue_wait, defaults.queue_wait);
        assert_eq!(cli.cache_ttl, defaults.cache_ttl);
        assert_eq!(cli.cache_stale, defaults.cache_stale);
        assert_eq!(cli.cache_events, defaults.cache_events);
        assert_eq!(cli.monthly_budget, defaults.monthly_budget);
        assert_eq!(cli.refresh_budget, defaults.refresh_budget);
        let off = Cli::try_parse_from(["conferbot-bff", "--refresh-budget", "off"]).unwrap();
        assert_eq!(off.refresh_budget, RefreshBudget::Off);
        assert!(Cli::try_parse_from(["conferbot-bff", "--refresh-budget", "0%"]).is_err());
        let cli = Cli::try_parse_from([
            "conferbot-bff",
            "--monthly-budget",
            "10%",
            "--cache-events",
            "drop",
        ])
        .unwrap();
        assert_eq!(cli.monthly_budget, Some(MonthlyBudget::Percent(10)));
        assert_eq!(cli.cache_events, CacheEvents::Drop);
        assert!(Cli::try_parse_from(["conferbot-bff", "--monthly-budget", "0"]).is_err());
        assert_eq!(cli.upstream_timeout, defaults.upstream_timeout);
        assert_eq!(cli.webhook_path, defaults.webhook_path);
        assert_eq!(cli.webhook_tolerance, defaults.webhook_tolerance);
        assert_eq!(cli.sse_heartbeat, defaults.sse_heartbeat);
        assert_eq!(cli.sse_retry, defaults.sse_retry);
        assert_eq!(cli.event_replay, defaults.event_replay);
        assert_eq!(cli.connections.settings(), defaults.connections);
        assert!(cli.allow_origin.is_empty());
        assert_eq!(cli.allow_host, defaults.allow_hosts);
        assert_eq!(cli.trusted_proxy, defaults.trusted_proxies);
        assert_eq!(cli.client_share, defaults.client_share);
        assert_eq!(cli.client_monthly_calls, defaults.client_monthly_calls);
        assert_eq!(cli.auth_url, defaults.auth_url);
        assert_eq!(cli.auth_user_header, defaults.auth_user_header);
        assert_eq!(cli.auth_timeout, defaults.auth_timeout);
        assert_eq!(cli.allow_local_webhooks, defaults.allow_local_webhooks);
        assert_eq!(cli.upstream_ca, None);
        assert_eq!(flags::UPSTREAM_CA.default, None);
        assert_eq!(cli.metrics_listen, None);
        assert_eq!(flags::METRICS_LISTEN.default, None);
        assert_eq!(cli.metrics_token_file, None);
    }
}
