//! Where GET answers are cached and coalesced, behind one interface: in this
//! process ([`local`], the default) or, with `--redis`, in Redis for every
//! replica ([`redis`]), with this process joining its own identical reads in
//! front (so a burst on one replica is one Redis conversation, not hundreds).
//! The rules (keys, what is kept, what a change makes stale) are the
//! policy's.

pub(crate) mod local;
pub(crate) mod redis;

use std::future::Future;
use std::sync::Arc;

use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::{BffError, Target};

use crate::answer::{Outcome, UpstreamAnswer};
use local::LocalCache;
use redis::RedisCache;

/// The read cache.
#[derive(Debug)]
pub(crate) enum CacheStore {
    /// In-process cache and coalescing.
    Local(Arc<LocalCache>),
    /// Shared through Redis; `joined` coalesces this replica's reads (no TTL).
    Redis {
        /// In-process coalescing in front of the shared cache.
        joined: Arc<LocalCache>,
        /// The shared cache.
        shared: Arc<RedisCache>,
    },
}

impl CacheStore {
    /// The answer for `key`: cached, joined, or fetched by `fetch`.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        key: &Target,
        fetch: F,
    ) -> (Outcome, CacheStatus)
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
    pub(crate) async fn invalidate(&self, stale: &Invalidation) -> Result<(), BffError> {
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
