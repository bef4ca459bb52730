//! The BFF's settings and their defaults, stated once for every server: the
//! Rust BFF's `BffConfig` and its command line (`--queue-wait 10s`) take them
//! from here, and so does the npm server half's options object.
//!
//! Each tunable is a [`Flag`]: its flag name, its default as a value and as
//! the text a user would type (written from one literal by a macro, so the two
//! cannot differ), and its help line. The hard limits next to them
//! ([`MAX_BODY_BYTES`], [`MAX_CACHE_AGE`], …) are not configurable.

use std::ops::RangeInclusive;
use std::time::Duration;

use conferbot::endpoint::hostile_reason;
use conferbot::protocol::bff::{BFF_MOUNT, EVENTS_PATH, WEBHOOK_RECEIVER_PATH};
use conferbot::{RateSpec, DEFAULT_BASE_URL, EXTERNAL_PREFIX};

use crate::cache_table::Freshness;
use crate::quota::MonthlyBudget;
use crate::refresh_budget::RefreshBudget;
use crate::route::Mounts;

/// Largest request body accepted (64 KiB): API writes and webhook deliveries
/// alike; larger ones are answered `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest upstream answer passed on (the biggest page is far smaller).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// Longest an answer may be kept, fresh and stale together (`--cache-ttl`
/// plus `--cache-stale`): 31 days, the quota's period. There used to be a
/// 5 s limit, because the cache knew of no change and served what it held
/// as current; now webhooks patch it, writes through the BFF invalidate it,
/// answers say their `age`, and what no webhook announces is revalidated
/// within `--cache-ttl`, so a long life is the point. This bound only keeps a
/// slip (`--cache-stale 100000h`) from meaning forever.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(31 * 86_400);
/// Most answers held in one process; past it the least recently served is
/// dropped (with long lifetimes, distinct reads must not grow memory
/// without bound: a page of 100 chatbots is about 20 KiB).
pub const MAX_CACHE_ENTRIES: usize = 4_096;
/// How many events `--event-replay` may keep.
pub const EVENT_REPLAY_RANGE: RangeInclusive<usize> = 1..=100_000;

/// A setting as a command-line flag: its name, its default and its help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag<T: 'static> {
    /// The flag without its dashes (`queue-wait`).
    pub name: &'static str,
    /// The default value.
    pub default: T,
    /// The default as a user writes it (`10s`), for `--help` and parsing.
    pub text: &'static str,
    /// The help line.
    pub doc: &'static str,
}

/// A duration flag whose default is written once: `duration_flag!("queue-wait", 10 s, "…")`.
macro_rules! duration_flag {
    ($name:literal, $n:literal s, $doc:literal) => {
        Flag {
            name: $name,
            default: Duration::from_secs($n),
            text: concat!($n, "s"),
            doc: $doc,
        }
    };
    ($name:literal, $n:literal m, $doc:literal) => {
        Flag {
            name: $name,
            default: Duration::from_secs($n * 60),
            text: concat!($n, "m"),
            doc: $doc,
        }
    };
    ($name:literal, $n:literal h, $doc:literal) => {
        Flag {
            name: $name,
            default: Duration::from_secs($n * 3_600),
            text: concat!($n, "h"),
            doc: $doc,
        }
    };
}

/// What an accepted webhook delivery does to the cache (`--cache-events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEvents {
    /// Applied in place by the patch rules ([`crate::patch`]).
    Patch,
    /// Every read about responses it names is stale (no patches: the
    /// behaviour before patches existed, for comparisons).
    Drop,
}

impl CacheEvents {
    /// The words `--cache-events` takes, the default first.
    pub const CHOICES: [&'static str; 2] = ["patch", "drop"];
}

impl std::str::FromStr for CacheEvents {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            word if word == Self::CHOICES[0] => Ok(Self::Patch),
            word if word == Self::CHOICES[1] => Ok(Self::Drop),
            other => Err(format!(
                "--cache-events must be patch or drop, got {other:?}"
            )),
        }
    }
}

pub mod connections;

pub use connections::{ConnectionSettings, EffectiveLimits};

/// The flags of the settings below, with their defaults.
pub mod flags {
    use super::*;

    pub use super::connections::flags::*;

    /// `--upstream`.
    pub const UPSTREAM: Flag<&str> = Flag {
        name: "upstream",
        default: DEFAULT_BASE_URL,
        text: DEFAULT_BASE_URL,
        doc: "The API base URL",
    };
    /// `--mount`.
    pub const MOUNT: Flag<&str> = Flag {
        name: "mount",
        default: BFF_MOUNT,
        text: BFF_MOUNT,
        doc: "Path the API is served under",
    };
    /// `--allow-origin` (repeatable; none by default).
    pub const ALLOW_ORIGIN: Flag<&[&str]> = Flag {
        name: "allow-origin",
        default: &[],
        text: "",
        doc: "An origin allowed by CORS and for writes (repeatable); none by default",
    };
    /// `--rate`: the upstream's documented limit. Its text is checked against
    /// [`RateSpec::UPSTREAM`] by a test.
    pub const RATE: Flag<RateSpec> = Flag {
        name: "rate",
        default: RateSpec::UPSTREAM,
        text: "60/60s",
        doc: "The upstream rate limit to shape traffic to",
    };
    /// `--queue-wait`.
    pub const QUEUE_WAIT: Flag<Duration> = duration_flag!(
        "queue-wait",
        10 s,
        "Longest a request waits for the rate window before a 429"
    );
    /// `--cache-ttl`: an hour. Webhooks keep what they announce current
    /// (a new response is patched in at once) and writes through the BFF
    /// invalidate what they change, so this bounds only how late a change
    /// that nothing announces shows (a chatbot renamed in Conferbot's own
    /// dashboard), at a cost of at most one call per read per hour while it
    /// is viewed: four reads (a dashboard's table, usage, webhooks and a
    /// second page) revalidated every hour all day and night spend 2,880
    /// calls a month, under a third of Starter's 10,000; `--monthly-budget`
    /// stretches it further.
    pub const CACHE_TTL: Flag<Duration> = duration_flag!(
        "cache-ttl",
        60 m,
        "How long a GET answer is fresh; after it, the next request is answered from it at once (x-cache: stale) while one call refreshes it (0 disables the cache; only identical reads in flight are shared)"
    );
    /// `--cache-stale`: a day, so that a night without views, an upstream
    /// outage or a budget's stretched interval are all answered at once from
    /// what is held; an answer older than that is read again before it is
    /// served.
    pub const CACHE_STALE: Flag<Duration> = duration_flag!(
        "cache-stale",
        24 h,
        "How long after --cache-ttl an answer is still served (marked stale) while it is revalidated in the background"
    );
    /// `--cache-events`.
    pub const CACHE_EVENTS: Flag<CacheEvents> = Flag {
        name: "cache-events",
        default: CacheEvents::Patch,
        text: "patch",
        doc: "What a webhook delivery does to cached reads: patch (a new response adds 1 to its chatbot's responseCount in place) or drop (they are read again)",
    };
    /// `--monthly-budget` (none by default: the plan's limit is the cap).
    pub const MONTHLY_BUDGET: Flag<Option<MonthlyBudget>> = Flag {
        name: "monthly-budget",
        default: None,
        text: "",
        doc: "Cap on the month's API calls, as a number (8000) or a share of the plan's limit (10%): revalidations are spaced to stay under it, and once it is reached no call is made until the month turns (held answers are served, marked stale); default: the plan's limit",
    };
    /// `--refresh-budget`: 10% of the plan's monthly limit
    /// ([`RefreshBudget::DEFAULT`]; its text is checked against it by a test).
    pub const REFRESH_BUDGET: Flag<RefreshBudget> = Flag {
        name: "refresh-budget",
        default: RefreshBudget::DEFAULT,
        text: "10%",
        doc: "What the BFF may spend on its own initiative (background revalidations, and re-reads of answers a webhook made stale), as calls a month (1000), a share of the plan's limit (10%) or off: each held answer is refreshed at most every held answers x month / budget, so refreshing all of them all month spends at most the budget (a change no webhook announces can take that long to show); reads not held are not limited by it. Off: a read a webhook made stale is read again at once",
    };
    /// `--upstream-timeout`.
    pub const UPSTREAM_TIMEOUT: Flag<Duration> = duration_flag!(
        "upstream-timeout",
        10 s,
        "Longest an upstream call may take before a 504"
    );
    /// `--upstream-ca` (a PEM file; none by default: the public web roots).
    pub const UPSTREAM_CA: Flag<Option<&str>> = Flag {
        name: "upstream-ca",
        default: None,
        text: "",
        doc: "Trust only the CA certificates of this PEM file for an https upstream \
              (a private upstream, or `conferbot-sandbox --tls`) [default: the public web roots]",
    };
    /// `--metrics-listen` (none by default: `/metrics` on the main address).
    pub const METRICS_LISTEN: Flag<Option<&str>> = Flag {
        name: "metrics-listen",
        default: None,
        text: "",
        doc: "Serve /metrics on this address only (e.g. 127.0.0.1:9187), not on --listen \
              [default: on --listen]",
    };
    /// `--metrics-token-file` (none by default: `/metrics` needs no token).
    pub const METRICS_TOKEN_FILE: Flag<Option<&str>> = Flag {
        name: "metrics-token-file",
        default: None,
        text: "",
        doc: "Answer /metrics only to `Authorization: Bearer TOKEN`, TOKEN read from this \
              file (or CONFERBOT_METRICS_TOKEN) [default: no token]",
    };
    /// The environment variable of the `/metrics` token.
    pub const METRICS_TOKEN_ENV: &str = "CONFERBOT_METRICS_TOKEN";
    /// `--webhook-path` (its default depends on the mount).
    pub const WEBHOOK_PATH: Flag<&str> = Flag {
        name: "webhook-path",
        default: WEBHOOK_RECEIVER_PATH,
        text: "{mount}/webhooks/incoming",
        doc: "Where webhook deliveries are received [default: {mount}/webhooks/incoming]",
    };
    /// `--webhook-tolerance`.
    pub const WEBHOOK_TOLERANCE: Flag<Duration> = duration_flag!(
        "webhook-tolerance",
        5 m,
        "Deliveries whose signed timestamp is further from now are refused (replays)"
    );
    /// `--sse-heartbeat`.
    pub const SSE_HEARTBEAT: Flag<Duration> = duration_flag!(
        "sse-heartbeat",
        15 s,
        "Interval of `: keepalive` comments on idle event streams"
    );
    /// `--sse-retry`.
    pub const SSE_RETRY: Flag<Duration> = duration_flag!(
        "sse-retry",
        3 s,
        "The `retry:` reconnection hint sent to browsers"
    );
    /// `--event-replay`.
    pub const EVENT_REPLAY: Flag<usize> = Flag {
        name: "event-replay",
        default: 1000,
        text: "1000",
        doc: "Events kept for Last-Event-ID replay",
    };
    /// `--allow-host` (repeatable; the defaults are always allowed).
    pub const ALLOW_HOST: Flag<&[&str]> = Flag {
        name: "allow-host",
        default: &crate::host::ALWAYS_ALLOWED,
        text: "localhost, 127.0.0.1, [::1] and the listen address",
        doc: "A host this server answers for (repeatable): app.example.com, .example.com (and subdomains), an IP, or * (every host: no protection against DNS rebinding); localhost, 127.0.0.1, [::1] and the listen address always are",
    };
    /// `--trusted-proxy` (repeatable; none by default).
    pub const TRUSTED_PROXY: Flag<&[&str]> = Flag {
        name: "trusted-proxy",
        default: &[],
        text: "",
        doc: "A proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client: the first untrusted hop from the right; none by default (the client is the connection's address)",
    };
    /// `--client-share`, in percent.
    pub const CLIENT_SHARE: Flag<u8> = Flag {
        name: "client-share",
        default: 10,
        text: "10%",
        doc: "One client's share of the rate window: it sends at most this part of the window's calls in the same part of its span, and once it has sent that much within the window, clients under their share go first (100% turns pacing off)",
    };
    /// `--client-monthly-calls` (off by default).
    pub const CLIENT_MONTHLY_CALLS: Flag<Option<u64>> = Flag {
        name: "client-monthly-calls",
        default: None,
        text: "",
        doc: "Most upstream calls one client may cause per calendar month (UTC); off by default. Independent of the BFF's own monthly budget: both apply",
    };
    /// `--auth-url` (off by default).
    pub const AUTH_URL: Flag<Option<&str>> = Flag {
        name: "auth-url",
        default: None,
        text: "",
        doc: "Forward-auth: GET this URL with the browser's Cookie and Authorization before each request under the mount; 2xx lets it through, 401/403 is passed back, anything else or no answer refuses it (503). Off by default: turn it on in production",
    };
    /// `--auth-user-header`.
    pub const AUTH_USER_HEADER: Flag<&str> = Flag {
        name: "auth-user-header",
        default: crate::auth::DEFAULT_USER_HEADER,
        text: crate::auth::DEFAULT_USER_HEADER,
        doc: "The header of the forward-auth answer that names the user (the client for fairness and --client-monthly-calls)",
    };
    /// `--auth-timeout`.
    pub const AUTH_TIMEOUT: Flag<Duration> = duration_flag!(
        "auth-timeout",
        2 s,
        "Longest the forward-auth answer may take before the request is refused (503)"
    );
    /// `--allow-local-webhooks`.
    pub const ALLOW_LOCAL_WEBHOOKS: Flag<bool> = Flag {
        name: "allow-local-webhooks",
        default: false,
        text: "false",
        doc: "Let browsers create webhooks to http:// and loopback URLs (local testing; implied by the embedded sandbox). Private, link-local and other non-public addresses stay refused",
    };
}

/// Parses a share like `10%` (or `10`): 1 to 100.
pub fn parse_percent(raw: &str) -> Result<u8, String> {
    let digits = raw.trim().trim_end_matches('%').trim();
    digits
        .parse::<u8>()
        .ok()
        .filter(|p| (1..=100).contains(p))
        .ok_or_else(|| format!("a share must be a percentage from 1% to 100%, got {raw:?}"))
}

/// What a BFF needs to decide (secrets and process matters aside: the key,
/// the webhook secret, Redis and the static directories are the server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The API base URL (`https://api-v2.conferbot.com/api/v1`).
    pub upstream: String,
    /// Path prefix the API is served under (`/api/conferbot`).
    pub mount: String,
    /// Origins allowed by CORS and for writes, besides our own
    /// (`https://app.example.com`).
    pub allow_origins: Vec<String>,
    /// The upstream's rate limit to shape to.
    pub rate: RateSpec,
    /// Longest a request waits in the rate queue before a `429`.
    pub queue_wait: Duration,
    /// How long GET answers are fresh (zero: not cached, still coalesced).
    pub cache_ttl: Duration,
    /// How long after that they are served, marked stale, while revalidated.
    pub cache_stale: Duration,
    /// What a webhook delivery does to cached reads.
    pub cache_events: CacheEvents,
    /// The cap on the month's use; `None`: the plan's limit.
    pub monthly_budget: Option<MonthlyBudget>,
    /// The pace of what the BFF spends on its own initiative.
    pub refresh_budget: RefreshBudget,
    /// Longest an upstream call may take before a `504`.
    pub upstream_timeout: Duration,
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
    /// Hosts answered besides the defaults (`--allow-host`).
    pub allow_hosts: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<String>,
    /// One client's share of the rate window, in percent.
    pub client_share: u8,
    /// Most upstream calls per client per month; `None`: no cap.
    pub client_monthly_calls: Option<u64>,
    /// The forward-auth URL; `None`: anyone who reaches the BFF may use it.
    pub auth_url: Option<String>,
    /// The forward-auth answer's header that names the user (lower case).
    pub auth_user_header: String,
    /// Longest the forward-auth answer may take.
    pub auth_timeout: Duration,
    /// Accept `http://` and loopback webhook URLs (local testing).
    pub allow_local_webhooks: bool,
    /// Connections, timeouts, request and stream caps, shutdown.
    pub connections: ConnectionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            upstream: flags::UPSTREAM.default.to_owned(),
            mount: flags::MOUNT.default.to_owned(),
            allow_origins: Vec::new(),
            rate: flags::RATE.default,
            queue_wait: flags::QUEUE_WAIT.default,
            cache_ttl: flags::CACHE_TTL.default,
            cache_stale: flags::CACHE_STALE.default,
            cache_events: flags::CACHE_EVENTS.default,
            monthly_budget: flags::MONTHLY_BUDGET.default,
            refresh_budget: flags::REFRESH_BUDGET.default,
            upstream_timeout: flags::UPSTREAM_TIMEOUT.default,
            webhook_path: None,
            webhook_tolerance: flags::WEBHOOK_TOLERANCE.default,
            sse_heartbeat: flags::SSE_HEARTBEAT.default,
            sse_retry: flags::SSE_RETRY.default,
            event_replay: flags::EVENT_REPLAY.default,
            allow_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            client_share: flags::CLIENT_SHARE.default,
            client_monthly_calls: flags::CLIENT_MONTHLY_CALLS.default,
            auth_url: None,
            auth_user_header: flags::AUTH_USER_HEADER.default.to_owned(),
            auth_timeout: flags::AUTH_TIMEOUT.default,
            allow_local_webhooks: flags::ALLOW_LOCAL_WEBHOOKS.default,
            connections: ConnectionSettings::default(),
        }
    }
}

/// Settings a BFF refuses to start with, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// The receiver's path: `--webhook-path`, or `{mount}/webhooks/incoming`.
    pub fn webhook_path(&self) -> String {
        self.webhook_path
            .clone()
            .unwrap_or_else(|| format!("{}{WEBHOOK_RECEIVER_PATH}", self.mount))
    }

    /// The live events' path: `{mount}/events`.
    pub fn events_path(&self) -> String {
        format!("{}{EVENTS_PATH}", self.mount)
    }

    /// The paths served: the mount, the events and the webhook receiver.
    pub fn mounts(&self) -> Mounts {
        Mounts {
            mount: self.mount.clone(),
            events: self.events_path(),
            webhook: self.webhook_path(),
        }
    }

    /// How long answers stay fresh, then stale.
    pub fn freshness(&self) -> Freshness {
        Freshness {
            fresh: self.cache_ttl,
            stale: self.cache_stale,
        }
    }

    /// The allowed origins as compared at run time (lower case).
    pub fn normalized_origins(&self) -> Vec<String> {
        self.allow_origins
            .iter()
            .map(|o| o.to_ascii_lowercase())
            .collect()
    }

    /// Checks what the types cannot: the mount and webhook path, the origins,
    /// the bounds, and the connection settings. (The upstream URL is the
    /// server's to parse, with its own URL library.)
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_decisions()?;
        self.validate_server()
    }

    /// [`Settings::validate`] without the connection layer's settings: what
    /// every server of this project decides by.
    pub fn validate_decisions(&self) -> Result<(), ConfigError> {
        let mount = &self.mount;
        if !plain_path(mount) {
            return Err(ConfigError(format!(
                "--mount must be a plain path like /api/conferbot (letters, digits, - _ . /), got {mount:?}"
            )));
        }
        let hook = self.webhook_path();
        let api = format!("{mount}{EXTERNAL_PREFIX}");
        if !plain_path(&hook)
            || hook == self.events_path()
            || hook == *mount
            || hook.starts_with(&format!("{api}/"))
            || hook == api
            || matches!(hook.as_str(), "/healthz" | "/metrics")
        {
            return Err(ConfigError(format!(
                "--webhook-path must be a plain path like {mount}{WEBHOOK_RECEIVER_PATH}, outside {api}/ and other than {}, got {hook:?}",
                self.events_path()
            )));
        }
        for (flag, value) in [
            (flags::WEBHOOK_TOLERANCE.name, self.webhook_tolerance),
            (flags::SSE_HEARTBEAT.name, self.sse_heartbeat),
            (flags::SSE_RETRY.name, self.sse_retry),
            (flags::UPSTREAM_TIMEOUT.name, self.upstream_timeout),
            (flags::AUTH_TIMEOUT.name, self.auth_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError(format!("--{flag} must be longer than 0")));
            }
        }
        if !EVENT_REPLAY_RANGE.contains(&self.event_replay) {
            return Err(ConfigError(format!(
                "--event-replay must be between {} and {}, got {}",
                EVENT_REPLAY_RANGE.start(),
                EVENT_REPLAY_RANGE.end(),
                self.event_replay
            )));
        }
        for origin in &self.allow_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && header_safe(origin);
            if !ok {
                return Err(ConfigError(format!(
                    "--allow-origin must look like https://app.example.com (scheme and host, no path), got {origin:?}"
                )));
            }
        }
        crate::host::AllowedHosts::new(&self.allow_hosts, None)?;
        crate::client::TrustedProxies::parse(&self.trusted_proxies)?;
        if !(1..=100).contains(&self.client_share) {
            return Err(ConfigError(format!(
                "--client-share must be from 1% to 100%, got {}%",
                self.client_share
            )));
        }
        if self.client_monthly_calls == Some(0) {
            return Err(ConfigError(
                "--client-monthly-calls must be at least 1 (leave it out for no cap)".to_owned(),
            ));
        }
        if self.cache_ttl.saturating_add(self.cache_stale) > MAX_CACHE_AGE {
            return Err(ConfigError(format!(
                "--cache-ttl and --cache-stale together must be at most {} days, got {} s",
                MAX_CACHE_AGE.as_secs() / 86_400,
                self.cache_ttl.saturating_add(self.cache_stale).as_secs()
            )));
        }
        Ok(())
    }

    /// Checks what only a server that owns its listener and makes its own
    /// sub-requests has: the connection layer (`connections`) and
    /// forward-auth (`--auth-url`): `conferbot-bff`, not the npm server half
    /// (its host server keeps its own connections, and its `authorize` hook
    /// stands for forward-auth).
    pub fn validate_server(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.auth_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(ConfigError(format!(
                    "--auth-url must be an http(s) URL like http://127.0.0.1:4180/oauth2/auth, got {url:?}"
                )));
            }
        }
        let header = &self.auth_user_header;
        if header.is_empty()
            || !header
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ConfigError(format!(
                "--auth-user-header must be a header name like x-auth-request-user (lower case), got {header:?}"
            )));
        }
        self.connections.validate()?;
        // A request may wait for the forward-auth answer, then the window,
        // then the upstream: the request timeout must leave room for all.
        let auth_wait = match self.auth_url {
            Some(_) => self.auth_timeout,
            None => Duration::ZERO,
        };
        let longest_answer = auth_wait
            .saturating_add(self.queue_wait)
            .saturating_add(self.upstream_timeout);
        if self.connections.request_timeout <= longest_answer {
            return Err(ConfigError(format!(
                "--{} must be longer than --queue-wait plus --upstream-timeout (plus --auth-timeout with --auth-url): {} ms, got {} ms",
                flags::REQUEST_TIMEOUT.name,
                longest_answer.as_millis(),
                self.connections.request_timeout.as_millis()
            )));
        }
        Ok(())
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

/// Whether `value` can be a header value as it is (visible ASCII, spaces and
/// tabs): an allowed origin is echoed in CORS answers.
fn header_safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_their_texts_parse_to_their_values() {
        assert_eq!(Settings::default().validate(), Ok(()));
        assert_eq!(
            flags::RATE.text.parse::<RateSpec>(),
            Ok(flags::RATE.default)
        );
        for flag in [
            flags::QUEUE_WAIT,
            flags::CACHE_TTL,
            flags::CACHE_STALE,
            flags::UPSTREAM_TIMEOUT,
            flags::WEBHOOK_TOLERANCE,
            flags::SSE_HEARTBEAT,
            flags::SSE_RETRY,
        ] {
            assert_eq!(
                conferbot::rate::parse_duration(flag.text),
                Ok(flag.default),
                "{}",
                flag.name
            );
        }
        assert_eq!(
            flags::EVENT_REPLAY.text.parse(),
            Ok(flags::EVENT_REPLAY.default)
        );
        assert_eq!(flags::QUEUE_WAIT.default, Duration::from_secs(10));
        assert_eq!(
            flags::CACHE_EVENTS.text.parse(),
            Ok(flags::CACHE_EVENTS.default)
        );
        assert_eq!(flags::CACHE_TTL.default, Duration::from_secs(3_600));
        assert_eq!(flags::CACHE_STALE.default, Duration::from_secs(86_400));
        assert!("keep".parse::<CacheEvents>().is_err());
        assert_eq!(
            flags::REFRESH_BUDGET.text.parse(),
            Ok(flags::REFRESH_BUDGET.default)
        );
        assert_eq!(flags::WEBHOOK_TOLERANCE.default, Duration::from_secs(300));
        assert_eq!(
            conferbot::rate::parse_duration(flags::AUTH_TIMEOUT.text),
            Ok(flags::AUTH_TIMEOUT.default)
        );
        assert_eq!(
            parse_percent(flags::CLIENT_SHARE.text),
            Ok(flags::CLIENT_SHARE.default)
        );
        assert_eq!(parse_percent("100"), Ok(100));
        assert!(parse_percent("0%").is_err() && parse_percent("101%").is_err());
    }

    #[test]
    fn refuses_bad_access_settings() {
        let bad = [
            Settings {
                allow_hosts: vec!["https://x.example".into()],
                ..Settings::default()
            },
            Settings {
                trusted_proxies: vec!["10.0.0.0/33".into()],
                ..Settings::default()
            },
            Settings {
                client_share: 0,
                ..Settings::default()
            },
            Settings {
                client_monthly_calls: Some(0),
                ..Settings::default()
            },
            Settings {
                auth_url: Some("ftp://auth".into()),
                ..Settings::default()
            },
            Settings {
                auth_user_header: "X User".into(),
                ..Settings::default()
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?}");
        }
        let good = Settings {
            allow_hosts: vec!["app.example.com".into(), ".example.org".into()],
            trusted_proxies: vec!["10.0.0.0/8".into(), "::1".into()],
            client_monthly_calls: Some(500),
            auth_url: Some("http://127.0.0.1:4180/oauth2/auth".into()),
            ..Settings::default()
        };
        assert_eq!(good.validate(), Ok(()));
    }

    #[test]
    fn refuses_bad_mounts_origins_and_ttls() {
        for mount in ["", "/", "api", "/api/", "/a/../b", "/a b", "/{x}", "/a%2f"] {
            let s = Settings {
                mount: mount.into(),
                ..Settings::default()
            };
            assert!(s.validate().is_err(), "{mount}");
        }
        let s = Settings {
            allow_origins: vec!["https://ok.example".into(), "evil.example".into()],
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        let s = Settings {
            allow_origins: vec!["https://ok.example\n".into()],
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        let s = Settings {
            cache_ttl: Duration::from_secs(86_400),
            cache_stale: Duration::from_secs(30 * 86_400 + 1),
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().0.contains("at most 31 days"));
        let s = Settings {
            cache_ttl: Duration::from_secs(86_400),
            cache_stale: Duration::from_secs(30 * 86_400),
            ..Settings::default()
        };
        assert_eq!(s.validate(), Ok(()));
        let s = Settings {
            upstream_timeout: Duration::ZERO,
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().0.contains("--upstream-timeout"));
        // A request must be allowed its whole wait in the queue and upstream.
        let s = Settings {
            queue_wait: Duration::from_secs(20),
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().0.contains("--request-timeout"));
    }

    #[test]
    fn the_webhook_path_defaults_under_the_mount_and_stays_off_the_api() {
        let defaults = Settings::default();
        assert_eq!(defaults.webhook_path(), "/api/conferbot/webhooks/incoming");
        assert_eq!(defaults.events_path(), "/api/conferbot/events");
        for path in [
            "/api/conferbot/external/v1/hook",
            "/api/conferbot/events",
            "/api/conferbot",
            "/healthz",
            "hooks",
            "/hooks/",
        ] {
            let s = Settings {
                webhook_path: Some(path.into()),
                ..Settings::default()
            };
            assert!(s.validate().is_err(), "{path}");
        }
        let s = Settings {
            webhook_path: Some("/hooks/conferbot".into()),
            ..Settings::default()
        };
        assert_eq!(s.validate(), Ok(()));
        let s = Settings {
            webhook_tolerance: Duration::ZERO,
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().0.contains("--webhook-tolerance"));
        let s = Settings {
            event_replay: 0,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }
}
