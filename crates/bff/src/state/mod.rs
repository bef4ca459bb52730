//! The BFF's state, by capability: each an interface with an in-process
//! backend (the default: one machine needs nothing else) and a Redis backend
//! (`--redis`: replicas behave as one).
//!
//! - [`window`]: the rate window and its fair queue in front of the upstream.
//! - [`cache`]: GET answers cached and coalesced.
//! - [`events`]: the numbered event log and its fan-out to SSE streams.
//! - [`quota`]: the month's quota as known (learned, counted, refused).

pub(crate) mod cache;
pub(crate) mod events;
pub(crate) mod quota;
pub(crate) mod window;

use std::sync::Arc;
use std::time::Duration;

use conferbot_policy::window::default_span;
use conferbot_policy::Settings;

use crate::redis_state::RedisState;
use cache::redis::RedisCache;
use cache::CacheStore;
use events::redis::RedisLog;
use events::EventBus;
use quota::redis::RedisQuota;
use quota::QuotaStore;
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
    /// The month's quota.
    pub(crate) quota: Arc<QuotaStore>,
}

impl Capabilities {
    /// In this process, or shared through `redis` when given.
    pub(crate) fn new(settings: &Settings, redis: Option<&Arc<RedisState>>) -> Self {
        let budget = settings.monthly_budget;
        match redis {
            None => {
                let quota = Arc::new(QuotaStore::local(budget, settings.refresh_budget));
                Self {
                    window: WindowStore::Local(LocalWindow::new(
                        settings.rate,
                        settings.client_share,
                        settings.client_monthly_calls,
                    )),
                    cache: CacheStore::local(settings.freshness(), Arc::clone(&quota)),
                    events: EventBus::local(settings.event_replay),
                    quota,
                }
            }
            Some(redis) => {
                // A leader may queue for its turn, then wait for the upstream.
                let lock_ttl =
                    settings.queue_wait + settings.upstream_timeout + Duration::from_secs(5);
                let shared = RedisCache::new(Arc::clone(redis), settings.freshness(), lock_ttl);
                let span =
                    u64::try_from(default_span(settings.rate).as_millis()).unwrap_or(u64::MAX);
                let quota = Arc::new(QuotaStore::redis(
                    RedisQuota::new(Arc::clone(redis), span),
                    budget,
                    settings.refresh_budget,
                ));
                Self {
                    window: WindowStore::Redis(RedisWindow::new(
                        Arc::clone(redis),
                        settings.rate,
                        settings.client_share,
                        settings.client_monthly_calls,
                    )),
                    cache: CacheStore::redis(shared, Arc::clone(&quota)),
                    events: EventBus::redis(RedisLog::new(
                        Arc::clone(redis),
                        settings.event_replay,
                    )),
                    quota,
                }
            }
        }
    }
}
