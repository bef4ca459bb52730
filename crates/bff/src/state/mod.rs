//! The BFF's state, by capability: each an interface with an in-process
//! backend (the default: one machine needs nothing else) and a Redis backend
//! (`--redis`: replicas behave as one).
//!
//! - [`window`]: the rate window and its fair queue in front of the upstream.
//! - [`cache`]: GET answers cached and coalesced.
//! - [`events`]: the numbered event log and its fan-out to SSE streams.

pub(crate) mod cache;
pub(crate) mod events;
pub(crate) mod window;

use std::sync::Arc;
use std::time::Duration;

use conferbot_policy::Settings;

use crate::redis_state::RedisState;
use cache::local::LocalCache;
use cache::redis::RedisCache;
use cache::CacheStore;
use events::redis::RedisLog;
use events::EventBus;
use window::local::LocalWindow;
use window::redis::RedisWindow;
use window::WindowStore;

/// Every capability, with the backend the configuration chose.
#[derive(Debug)]
pub(crate) struct Capabilities {
    /// The rate window.
    pub(crate) window: WindowStore,
    /// The read cache.
    pub(crate) cache: CacheStore,
    /// The event log.
    pub(crate) events: EventBus,
}

impl Capabilities {
    /// In this process, or shared through `redis` when given.
    pub(crate) fn new(settings: &Settings, redis: Option<&Arc<RedisState>>) -> Self {
        match redis {
            None => Self {
                window: WindowStore::Local(LocalWindow::new(
                    settings.rate,
                    settings.client_share,
                    settings.client_monthly_calls,
                )),
                cache: CacheStore::Local(LocalCache::new(settings.cache_ttl)),
                events: EventBus::local(settings.event_replay),
            },
            Some(redis) => {
                // A leader may queue for its turn, then wait for the upstream.
                let lock_ttl =
                    settings.queue_wait + settings.upstream_timeout + Duration::from_secs(5);
                let shared = RedisCache::new(Arc::clone(redis), settings.cache_ttl, lock_ttl);
                Self {
                    window: WindowStore::Redis(RedisWindow::new(
                        Arc::clone(redis),
                        settings.rate,
                        settings.client_share,
                        settings.client_monthly_calls,
                    )),
                    cache: CacheStore::Redis {
                        joined: LocalCache::new(Duration::ZERO),
                        shared: Arc::new(shared),
                    },
                    events: EventBus::redis(RedisLog::new(
                        Arc::clone(redis),
                        settings.event_replay,
                    )),
                }
            }
        }
    }
}
