//! The command line (and environment) of `conferbot-bff`, and what it takes
//! to start: read the key, or start the embedded sandbox when there is none.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use conferbot::rate::parse_duration;
use conferbot::{RateSpec, DEFAULT_BASE_URL};
use conferbot_sandbox::{RunningSandbox, SandboxConfig};

use crate::config::{BffConfig, ConfigError, DEFAULT_MOUNT};
use crate::logging::LogFormat;
use crate::secret::ApiKey;

/// `conferbot-bff`: holds the Conferbot API key and forwards only the
/// operations of the External API, shaped to its rate limit, with a short
/// cache. Without a key it runs against an embedded sandbox.
// No `Debug`: even redacted, the key has no business in a dump of the flags.
#[derive(Parser)]
#[command(name = "conferbot-bff", version, about, long_about = None)]
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
}

fn parse_key(raw: &str) -> Result<ApiKey, String> {
    ApiKey::new(raw).ok_or_else(|| "the API key is empty".to_owned())
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
}

/// Why the BFF could not start.
#[derive(Debug)]
pub enum LaunchError {
    /// The key file could not be read, or is empty.
    KeyFile(PathBuf, String),
    /// The embedded sandbox could not start.
    Sandbox(std::io::Error),
    /// The configuration was refused.
    Config(ConfigError),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::KeyFile(path, why) => write!(f, "--api-key-file {}: {why}", path.display()),
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
        let use_sandbox = self.sandbox || key.is_none();
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
        };
        config.validate().map_err(LaunchError::Config)?;
        let sandbox = if use_sandbox {
            announce_sandbox(key.is_some(), self.sandbox);
            let sandbox = start_sandbox(self.sandbox_rate).await?;
            config.upstream = sandbox.base_url();
            Some(sandbox)
        } else {
            None
        };
        Ok(Launch {
            config,
            listen: self.listen,
            sandbox,
        })
    }
}

fn read_key_file(path: &PathBuf) -> Result<ApiKey, LaunchError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|err| LaunchError::KeyFile(path.clone(), err.to_string()))?;
    ApiKey::new(raw).ok_or_else(|| LaunchError::KeyFile(path.clone(), "the file is empty".into()))
}

/// Starts the sandbox in this process on a free loopback port.
async fn start_sandbox(rate: RateSpec) -> Result<RunningSandbox, LaunchError> {
    let config = SandboxConfig {
        rate,
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
