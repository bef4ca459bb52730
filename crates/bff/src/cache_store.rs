//! Where GET answers are cached and coalesced: in this process (the default)
//! or, with `--redis`, in Redis for every replica, with this process joining
//! its own identical reads in front (so a burst on one replica is one Redis
//! conversation, not hundreds).

use std::future::Future;
use std::sync::Arc;

use crate::cache::{Outcome, ReadCache};
use crate::error::BffError;
use crate::invalidation::Invalidation;
use crate::metrics::CacheStatus;
use crate::redis_state::cache::RedisCache;
use crate::routing::Target;
use crate::upstream::UpstreamAnswer;

/// The read cache.
#[derive(Debug)]
pub enum CacheStore {
    /// In-process cache and coalescing.
    Local(Arc<ReadCache>),
    /// Shared through Redis; `joined` coalesces this replica's reads (no TTL).
    Redis {
        /// In-process coalescing in front of the shared cache.
        joined: Arc<ReadCache>,
        /// The shared cache.
        shared: Arc<RedisCache>,
    },
}

impl CacheStore {
    /// The answer for `key`: cached, joined, or fetched by `fetch`.
    pub async fn get_or_fetch<F, Fut>(&self, key: Target, fetch: F) -> (Outcome, CacheStatus)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<UpstreamAnswer, BffError>> + Send + 'static,
    {
        match self {
            Self::Local(cache) => cache.get_or_fetch(key, fetch).await,
            Self::Redis { joined, shared } => {
                let shared = Arc::clone(shared);
                let target = key.clone();
                joined
                    .get_or_join(key, move || async move {
                        shared.get_or_fetch(&target, fetch).await
                    })
                    .await
            }
        }
    }

    /// Drops the reads `stale` names; with Redis, on every replica.
    pub async fn invalidate(&self, stale: &Invalidation) -> Result<(), BffError> {
        match self {
            Self::Local(cache) => {
                cache.invalidate(stale);
                Ok(())
            }
            Self::Redis { joined, shared } => {
                joined.invalidate(stale);
                shared
                    .invalidate(stale)
                    .await
                    .map_err(|()| BffError::SharedStateUnavailable)
            }
        }
    }
}
