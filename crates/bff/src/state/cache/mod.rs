//! Where GET answers are cached and coalesced, behind one interface: in this
//! process ([`local`], the default) or, with `--redis`, in Redis for every
//! replica ([`redis`]), with this process joining its own identical reads in
//! front (so a burst on one replica is one Redis conversation, not hundreds).
//! The rules (keys, freshness, revalidation, what a change patches or makes
//! stale) are the policy's; what may be spent is the month's quota's
//! ([`QuotaStore::spend`]).

mod leading;
pub(crate) mod local;
pub(crate) mod redis;

use std::future::Future;
use std::sync::Arc;

use conferbot_policy::cache_table::Freshness;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::quota::Spend;
use conferbot_policy::{BffError, Target};

use crate::answer::{Served, UpstreamAnswer};
use crate::state::quota::QuotaStore;
use local::LocalCache;
use redis::RedisCache;

/// The read cache.
#[derive(Debug)]
pub(crate) struct CacheStore {
    backend: Backend,
    quota: Arc<QuotaStore>,
}

#[derive(Debug)]
enum Backend {
    /// In-process cache and coalescing.
    Local(Arc<LocalCache>),
    /// Shared through Redis; `joined` coalesces this replica's reads (no TTL).
    Redis {
        joined: Arc<LocalCache>,
        shared: Arc<RedisCache>,
    },
}

impl CacheStore {
    /// In this process, spending as `quota` allows.
    pub(crate) fn local(freshness: Freshness, quota: Arc<QuotaStore>) -> Self {
        Self {
            backend: Backend::Local(LocalCache::new(freshness)),
            quota,
        }
    }

    /// Shared through Redis, spending as `quota` allows.
    pub(crate) fn redis(shared: RedisCache, quota: Arc<QuotaStore>) -> Self {
        Self {
            backend: Backend::Redis {
                joined: LocalCache::joining(),
                shared: Arc::new(shared),
            },
            quota,
        }
    }

    /// The answer for `key`: held, joined, or fetched by `fetch`.
    pub(crate) async fn get_or_fetch<F, Fut>(&self, key: &Target, fetch: F) -> Served
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<UpstreamAnswer, BffError>> + Send + 'static,
    {
        match &self.backend {
            Backend::Local(cache) => {
                let spend = self.quota.spend(cache.fresh_ms(), cache.held());
                cache.get_or_fetch(key, spend, fetch).await
            }
            Backend::Redis { joined, shared } => {
                let spend = self.quota.spend(shared.fresh_ms(), 0);
                let shared = Arc::clone(shared);
                let target = key.clone();
                joined
                    .get_or_join(key, Spend::FREE, move || async move {
                        shared.get_or_fetch(&target, spend, fetch).await
                    })
                    .await
            }
        }
    }

    /// Applies a write's change; with Redis, for every replica.
    pub(crate) async fn apply(&self, change: &Invalidation) -> Result<(), BffError> {
        match &self.backend {
            Backend::Local(cache) => {
                cache.apply(change);
                Ok(())
            }
            Backend::Redis { joined, shared } => {
                joined.apply(change);
                shared
                    .invalidate(change)
                    .await
                    .map_err(|()| BffError::SharedStateUnavailable)
            }
        }
    }

    /// The in-process table (for deliveries, applied under the event log's
    /// lock); `None` with Redis.
    pub(crate) fn in_process(&self) -> Option<&Arc<LocalCache>> {
        match &self.backend {
            Backend::Local(cache) => Some(cache),
            Backend::Redis { .. } => None,
        }
    }

    /// The shared cache, with Redis.
    pub(crate) fn shared(&self) -> Option<(&Arc<LocalCache>, &Arc<RedisCache>)> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Redis { joined, shared } => Some((joined, shared)),
        }
    }
}
