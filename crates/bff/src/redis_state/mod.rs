//! The connection to Redis (`--redis URL`), through which BFF replicas
//! behave as one: the Redis backends of `crate::state` (window, cache,
//! events) run their scripts over it, under the key layout of
//! [`conferbot_policy::shared_state`] (every key under
//! `conferbot-bff:{FINGERPRINT}:`, a keyed hash of the API key).
//!
//! The connection is a redis-rs `ConnectionManager` created lazily: the BFF
//! starts and serves while Redis is down, reconnects on its own, and reports
//! its state in `/healthz` and the `conferbot_bff_redis_up` gauge. While Redis
//! is unreachable every request that needs the upstream is refused with `503`
//! (fail closed: never unshaped traffic to the upstream).
//!
//! - [`subscriber`]: the one pub/sub connection per replica, dispatching to
//!   local waiters and SSE streams; and the health pinger.

mod subscriber;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conferbot_policy::event_log::BusMessage;
use conferbot_policy::shared_state::keys;
use conferbot_policy::shared_state::wire::DoneMessage;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// How long a command may take before Redis counts as unreachable.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Capacity of the local fan-out of pub/sub messages.
const LOCAL_FANOUT: usize = 1024;

/// A Redis URL (`redis://host:6379/0`), checked at start; `Debug` and
/// `Display` hide any password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Checks that redis-rs accepts `raw` as a connection URL.
    pub fn new(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        redis::Client::open(raw).map_err(|err| {
            format!("--redis must be a URL like redis://127.0.0.1:6379/0 ({err})")
        })?;
        Ok(Self(raw.to_owned()))
    }

    /// The URL with credentials replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        match self.0.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => self.0.clone(),
            },
            None => "[unparsed]".to_owned(),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Whether Redis answers: the pinger and every command report here, and the
/// `conferbot_bff_redis_up` gauge follows.
#[derive(Debug)]
pub(crate) struct Health {
    commands: AtomicBool,
    pubsub: AtomicBool,
    metrics: Arc<Metrics>,
}

impl Health {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.set_redis_up(false);
        Self {
            commands: AtomicBool::new(false),
            pubsub: AtomicBool::new(false),
            metrics,
        }
    }

    /// Both the command connection and the pub/sub connection work.
    pub(crate) fn is_up(&self) -> bool {
        self.commands.load(Ordering::Relaxed) && self.pubsub.load(Ordering::Relaxed)
    }

    pub(crate) fn set_commands(&self, up: bool) {
        let was = self.is_up();
        self.commands.store(up, Ordering::Relaxed);
        self.changed(was);
    }

    pub(crate) fn set_pubsub(&self, up: bool) {
        let was = self.is_up();
        self.pubsub.store(up, Ordering::Relaxed);
        self.changed(was);
    }

    fn changed(&self, was: bool) {
        let now = self.is_up();
        self.metrics.set_redis_up(now);
        if was != now {
            if now {
                tracing::info!("redis reachable: shared state available");
            } else {
                tracing::warn!("redis unreachable: refusing upstream calls until it returns");
            }
        }
    }
}

/// One replica's handle on the shared state: the connection, the key names,
/// the health and the local fan-out of what the subscriber receives.
pub(crate) struct RedisState {
    manager: ConnectionManager,
    prefix: String,
    health: Arc<Health>,
    /// Events from the log's pub/sub channel, to this replica's SSE streams.
    pub(crate) live: broadcast::Sender<BusMessage>,
    /// Finished leader calls, to this replica's waiting followers.
    pub(crate) done: broadcast::Sender<Arc<DoneMessage>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for RedisState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("up", &self.health.is_up())
            .finish()
    }
}

impl RedisState {
    /// Prepares the connection (lazily: Redis may be down at start) and starts
    /// the subscriber and the pinger, every key under `prefix`. Needs a tokio
    /// runtime.
    pub(crate) fn connect(
        url: &RedisUrl,
        prefix: String,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, String> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "--redis needs to be started inside a tokio runtime".to_owned())?;
        let client =
            redis::Client::open(url.0.as_str()).map_err(|err| format!("--redis: {err}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|err| format!("--redis: {err}"))?;
        let health = Arc::new(Health::new(metrics));
        let (live, _) = broadcast::channel(LOCAL_FANOUT);
        let (done, _) = broadcast::channel(LOCAL_FANOUT);
        let channels = subscriber::Channels {
            events: format!("{prefix}{}", keys::EVENTS_CHANNEL),
            done: format!("{prefix}{}", keys::DONE_CHANNEL),
        };
        let tasks = vec![
            runtime.spawn(subscriber::run(
                client,
                channels,
                live.clone(),
                done.clone(),
                Arc::clone(&health),
            )),
            runtime.spawn(subscriber::ping(manager.clone(), Arc::clone(&health))),
        ];
        tracing::info!(redis = %url, "shared state on redis");
        Ok(Arc::new(Self {
            manager,
            prefix,
            health,
            live,
            done,
            tasks: Mutex::new(tasks),
        }))
    }

    /// A handle on the multiplexed connection (cheap to clone).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The full name of the shared key `name`.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether Redis currently answers.
    pub(crate) fn is_up(&self) -> bool {
        self.health.is_up()
    }

    /// Records how a command went, so that health follows failures at once.
    pub(crate) fn track<T>(&self, result: redis::RedisResult<T>) -> redis::RedisResult<T> {
        match &result {
            Ok(_) => self.health.set_commands(true),
            Err(err) => {
                tracing::debug!(error = %err, "redis command failed");
                self.health.set_commands(false);
            }
        }
        result
    }
}

impl Drop for RedisState {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.iter() {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_never_show_passwords() {
        let url = RedisUrl::new("redis://:hunter2@10.0.0.5:6379/1").unwrap();
        assert_eq!(url.redacted(), "redis://***@10.0.0.5:6379/1");
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(
            RedisUrl::new("redis://127.0.0.1:6379").unwrap().redacted(),
            "redis://127.0.0.1:6379"
        );
        assert!(RedisUrl::new("http://example.com").is_err());
    }
}
