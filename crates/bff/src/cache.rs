//! Saving quota: a short-lived cache of GET answers, and coalescing of
//! identical GETs in flight into one upstream call.
//!
//! A read is keyed by operation, ids and canonical page ([`Target`]). The
//! first request for a key starts the upstream call as its own task (so a
//! browser that disconnects does not cancel it for the others) and everyone
//! who asks for the same key meanwhile awaits that task. Successful answers
//! are kept for the TTL; errors are shared with the waiters but not kept.
//! A write or a webhook drops the reads it makes stale ([`Invalidation`]),
//! including calls still in flight, whose answers are then not stored.
//!
//! This is the in-process cache. With `--redis` it runs with a zero TTL in
//! front of the shared one (`crate::cache_store`), joining identical reads of
//! this replica before they reach Redis.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::time::Instant;

use crate::error::BffError;
use crate::invalidation::Invalidation;
use crate::metrics::CacheStatus;
use crate::routing::Target;
use crate::upstream::UpstreamAnswer;

/// Above this many entries, expired ones are swept on insert.
const SWEEP_ABOVE: usize = 256;

/// An answer (shared by everyone who asked), or why there is none.
pub type Outcome = Result<Arc<UpstreamAnswer>, BffError>;
/// What a fetch came to: the answer and how the fetcher got it.
pub type Fetched = (Result<UpstreamAnswer, BffError>, CacheStatus);
type InFlight = Shared<BoxFuture<'static, (Outcome, CacheStatus)>>;

enum Slot {
    Fresh {
        answer: Arc<UpstreamAnswer>,
        until: Instant,
    },
    Pending {
        call: u64,
        shared: InFlight,
    },
}

/// The read cache with its in-flight map.
pub struct ReadCache {
    ttl: Duration,
    slots: Mutex<HashMap<Target, Slot>>,
    next_call: AtomicU64,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").field("ttl", &self.ttl).finish()
    }
}

impl ReadCache {
    /// A cache keeping answers for `ttl` (zero: coalescing only, no cache).
    pub fn new(ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            slots: Mutex::new(HashMap::new()),
            next_call: AtomicU64::new(0),
        })
    }

    /// The answer for `key`: cached, joined from a call in flight, or fetched
    /// by `fetch` in a task of its own.
    pub async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: Target,
        fetch: F,
    ) -> (Outcome, CacheStatus)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UpstreamAnswer, BffError>> + Send + 'static,
    {
        self.get_or_join(key, move || {
            let call = fetch();
            async move { (call.await, CacheStatus::Miss) }
        })
        .await
    }

    /// Like [`ReadCache::get_or_fetch`], for a fetch that says how it got its
    /// answer (a shared cache may have had it): the caller that started the
    /// fetch gets that status, those who joined it get `Coalesced`.
    pub async fn get_or_join<F, Fut>(
        self: &Arc<Self>,
        key: Target,
        fetch: F,
    ) -> (Outcome, CacheStatus)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Fetched> + Send + 'static,
    {
        let (shared, joined) = {
            let Ok(mut slots) = self.slots.lock() else {
                return (Err(BffError::Internal), CacheStatus::Miss);
            };
            let now = Instant::now();
            match slots.get(&key) {
                Some(Slot::Fresh { answer, until }) if now < *until => {
                    return (Ok(Arc::clone(answer)), CacheStatus::Hit);
                }
                Some(Slot::Pending { shared, .. }) => (shared.clone(), true),
                _ => {
                    if slots.len() > SWEEP_ABOVE {
                        slots.retain(|_, slot| match slot {
                            Slot::Fresh { until, .. } => now < *until,
                            Slot::Pending { .. } => true,
                        });
                    }
                    let call = self.next_call.fetch_add(1, Ordering::Relaxed);
                    let shared = self.spawn(key.clone(), call, fetch());
                    slots.insert(
                        key,
                        Slot::Pending {
                            call,
                            shared: shared.clone(),
                        },
                    );
                    (shared, false)
                }
            }
        };
        let (outcome, status) = shared.await;
        (
            outcome,
            if joined {
                CacheStatus::Coalesced
            } else {
                status
            },
        )
    }

    /// Drops every cached or in-flight read that `stale` names.
    pub fn invalidate(&self, stale: &Invalidation) {
        if stale.is_empty() {
            return;
        }
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|key, _| !stale.matches(key));
        }
    }

    /// Runs `fetch` as a task that settles its slot when done, and returns the
    /// shared handle everyone awaits.
    fn spawn<Fut>(self: &Arc<Self>, key: Target, call: u64, fetch: Fut) -> InFlight
    where
        Fut: Future<Output = Fetched> + Send + 'static,
    {
        let cache = Arc::clone(self);
        // Boxed: the fetch's state machine (window, transport, timeout) is
        // large, and the task would otherwise be copied by value on spawn.
        let fetch = Box::pin(fetch);
        let task = tokio::spawn(async move {
            let (result, status) = fetch.await;
            let outcome = result.map(Arc::new);
            cache.settle(key, call, &outcome);
            (outcome, status)
        });
        async move {
            task.await
                .unwrap_or((Err(BffError::Internal), CacheStatus::Miss))
        }
        .boxed()
        .shared()
    }

    /// Replaces the pending slot of `call` by the answer (kept for the TTL if
    /// it is a success) or removes it. A slot that was invalidated or replaced
    /// meanwhile is left alone: that answer may already be stale.
    fn settle(&self, key: Target, call: u64, outcome: &Outcome) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let ours = matches!(slots.get(&key), Some(Slot::Pending { call: c, .. }) if *c == call);
        if !ours {
            return;
        }
        match outcome {
            Ok(answer) if answer.is_success() && !self.ttl.is_zero() => {
                let until = Instant::now() + self.ttl;
                slots.insert(
                    key,
                    Slot::Fresh {
                        answer: Arc::clone(answer),
                        until,
                    },
                );
            }
            _ => {
                slots.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::http::StatusCode;
    use bytes::Bytes;
    use conferbot::{Operation, PageRequest};

    use super::*;

    fn key(op: Operation) -> Target {
        Target {
            operation: op,
            ids: vec![],
            page: op.is_paginated().then(PageRequest::default),
        }
    }

    fn answer(status: u16, body: &'static str) -> UpstreamAnswer {
        UpstreamAnswer {
            status: StatusCode::from_u16(status).unwrap(),
            body: Bytes::from_static(body.as_bytes()),
            retry_after: None,
        }
    }

    /// A fetch that counts its calls and answers after `delay`.
    fn fetcher(
        calls: &Arc<AtomicUsize>,
        status: u16,
        delay: Duration,
    ) -> impl FnOnce() -> BoxFuture<'static, Result<UpstreamAnswer, BffError>> {
        let calls = Arc::clone(calls);
        move || {
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                Ok(answer(status, "{}"))
            }
            .boxed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn coalesces_concurrent_reads_then_serves_hits_until_the_ttl() {
        let cache = ReadCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                let fetch = fetcher(&calls, 200, Duration::from_millis(100));
                cache
                    .get_or_fetch(key(Operation::ListChatbots), fetch)
                    .await
                    .1
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            statuses.iter().filter(|s| **s == CacheStatus::Miss).count(),
            1
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == CacheStatus::Coalesced)
                .count(),
            49
        );

        let fetch = fetcher(&calls, 200, Duration::ZERO);
        let (_, status) = cache
            .get_or_fetch(key(Operation::ListChatbots), fetch)
            .await;
        assert_eq!(status, CacheStatus::Hit);
        tokio::time::advance(Duration::from_secs(2)).await;
        let fetch = fetcher(&calls, 200, Duration::ZERO);
        let (_, status) = cache
            .get_or_fetch(key(Operation::ListChatbots), fetch)
            .await;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn error_answers_are_not_kept() {
        let cache = ReadCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let fetch = fetcher(&calls, 500, Duration::ZERO);
            let (outcome, status) = cache.get_or_fetch(key(Operation::GetUsage), fetch).await;
            assert_eq!(outcome.unwrap().status, 500);
            assert_eq!(status, CacheStatus::Miss);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_still_coalesces_but_never_hits() {
        let cache = ReadCache::new(Duration::ZERO);
        let calls = Arc::new(AtomicUsize::new(0));
        let a = cache.get_or_fetch(
            key(Operation::GetUsage),
            fetcher(&calls, 200, Duration::from_millis(50)),
        );
        let b = cache.get_or_fetch(
            key(Operation::GetUsage),
            fetcher(&calls, 200, Duration::ZERO),
        );
        let ((_, sa), (_, sb)) = tokio::join!(a, b);
        assert_eq!((sa, sb), (CacheStatus::Miss, CacheStatus::Coalesced));
        let (_, status) = cache
            .get_or_fetch(
                key(Operation::GetUsage),
                fetcher(&calls, 200, Duration::ZERO),
            )
            .await;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_drop_cached_and_in_flight_reads_they_make_stale() {
        let cache = ReadCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = key(Operation::ListWebhooks);
        let usage = key(Operation::GetUsage);
        let _ = cache
            .get_or_fetch(hooks.clone(), fetcher(&calls, 200, Duration::ZERO))
            .await;
        let _ = cache
            .get_or_fetch(usage.clone(), fetcher(&calls, 200, Duration::ZERO))
            .await;

        // A read in flight when the write lands must not be stored afterwards.
        let in_flight = {
            let cache = Arc::clone(&cache);
            let fetch = fetcher(&calls, 200, Duration::from_millis(100));
            tokio::spawn(async move {
                cache.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
                cache
                    .get_or_fetch(key(Operation::ListWebhooks), fetch)
                    .await
            })
        };
        tokio::time::advance(Duration::from_millis(10)).await;
        cache.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
        in_flight.await.unwrap().0.unwrap();

        let (_, status) = cache
            .get_or_fetch(hooks, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(status, CacheStatus::Miss, "stale read served after a write");
        let (_, status) = cache
            .get_or_fetch(usage, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(status, CacheStatus::Hit, "unrelated read dropped");
    }
}
