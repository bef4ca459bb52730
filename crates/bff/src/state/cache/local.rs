//! The in-process read cache: the policy's [`CacheTable`] under a mutex, with
//! each upstream call in a task of its own.
//!
//! The first request for a key starts the upstream call as its own task (so a
//! browser that disconnects does not cancel it for the others) and everyone
//! who asks for the same key meanwhile awaits that task's shared handle. The
//! table decides the rest: successes kept for the TTL, errors shared but not
//! kept, reads in flight dropped by a change and their answers then not
//! stored. With `--redis` it runs with a zero TTL in front of the shared
//! cache, joining identical reads of this replica before they reach Redis.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use conferbot_policy::cache_table::{CacheTable, CallId, Lookup};
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::{BffError, Target};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::time::Instant;

use crate::answer::{Fetched, Outcome, UpstreamAnswer};

/// A call in flight, as everyone who asked awaits it.
type InFlight = Shared<BoxFuture<'static, (Outcome, CacheStatus)>>;

/// The read cache with its in-flight calls.
pub(crate) struct LocalCache {
    ttl: Duration,
    /// Time zero of the table's milliseconds.
    epoch: Instant,
    table: Mutex<CacheTable<Arc<UpstreamAnswer>, InFlight>>,
}

impl std::fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl LocalCache {
    /// A cache keeping answers for `ttl` (zero: coalescing only, no cache).
    pub(crate) fn new(ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            epoch: Instant::now(),
            table: Mutex::new(CacheTable::new(ttl)),
        })
    }

    /// The answer for `key`: cached, joined from a call in flight, or fetched
    /// by `fetch` in a task of its own.
    pub(crate) async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: &Target,
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

    /// Like [`LocalCache::get_or_fetch`], for a fetch that says how it got its
    /// answer (a shared cache may have had it): the caller that started the
    /// fetch gets that status, those who joined it get `Coalesced`.
    pub(crate) async fn get_or_join<F, Fut>(
        self: &Arc<Self>,
        key: &Target,
        fetch: F,
    ) -> (Outcome, CacheStatus)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Fetched> + Send + 'static,
    {
        let lookup = {
            let now = self.now();
            self.lock()
                .lookup(key, now, |call| self.spawn(key.clone(), call, fetch()))
        };
        match lookup {
            Lookup::Hit(answer) => (Ok(answer), CacheStatus::Hit),
            Lookup::Joined(shared) => (shared.await.0, CacheStatus::Coalesced),
            Lookup::Led(_, shared) => shared.await,
        }
    }

    /// Drops every cached or in-flight read that `stale` names.
    pub(crate) fn invalidate(&self, stale: &Invalidation) {
        self.lock().invalidate(stale);
    }

    /// Runs `fetch` as a task that settles its slot when done, and returns the
    /// shared handle everyone awaits.
    fn spawn<Fut>(self: &Arc<Self>, key: Target, call: CallId, fetch: Fut) -> InFlight
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
            let now = cache.now();
            cache.lock().settle(&key, call, outcome.as_ref().ok(), now);
            (outcome, status)
        });
        async move {
            task.await
                .unwrap_or((Err(BffError::Internal), CacheStatus::Miss))
        }
        .boxed()
        .shared()
    }

    /// The table. It never panics, so a poisoned lock still holds a
    /// consistent table.
    fn lock(&self) -> MutexGuard<'_, CacheTable<Arc<UpstreamAnswer>, InFlight>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

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
        let cache = LocalCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                let fetch = fetcher(&calls, 200, Duration::from_millis(100));
                cache
                    .get_or_fetch(&key(Operation::ListChatbots), fetch)
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
            .get_or_fetch(&key(Operation::ListChatbots), fetch)
            .await;
        assert_eq!(status, CacheStatus::Hit);
        tokio::time::advance(Duration::from_secs(2)).await;
        let fetch = fetcher(&calls, 200, Duration::ZERO);
        let (_, status) = cache
            .get_or_fetch(&key(Operation::ListChatbots), fetch)
            .await;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn error_answers_are_not_kept() {
        let cache = LocalCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let fetch = fetcher(&calls, 500, Duration::ZERO);
            let (outcome, status) = cache.get_or_fetch(&key(Operation::GetUsage), fetch).await;
            assert_eq!(outcome.unwrap().status, 500);
            assert_eq!(status, CacheStatus::Miss);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_still_coalesces_but_never_hits() {
        let cache = LocalCache::new(Duration::ZERO);
        let calls = Arc::new(AtomicUsize::new(0));
        let usage = key(Operation::GetUsage);
        let a = cache.get_or_fetch(&usage, fetcher(&calls, 200, Duration::from_millis(50)));
        let b = cache.get_or_fetch(&usage, fetcher(&calls, 200, Duration::ZERO));
        let ((_, sa), (_, sb)) = tokio::join!(a, b);
        assert_eq!((sa, sb), (CacheStatus::Miss, CacheStatus::Coalesced));
        let (_, status) = cache
            .get_or_fetch(&usage, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_drop_cached_and_in_flight_reads_they_make_stale() {
        let cache = LocalCache::new(Duration::from_secs(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = key(Operation::ListWebhooks);
        let usage = key(Operation::GetUsage);
        let _ = cache
            .get_or_fetch(&hooks, fetcher(&calls, 200, Duration::ZERO))
            .await;
        let _ = cache
            .get_or_fetch(&usage, fetcher(&calls, 200, Duration::ZERO))
            .await;

        // A read in flight when the write lands must not be stored afterwards.
        let in_flight = {
            let cache = Arc::clone(&cache);
            let fetch = fetcher(&calls, 200, Duration::from_millis(100));
            tokio::spawn(async move {
                cache.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
                cache
                    .get_or_fetch(&key(Operation::ListWebhooks), fetch)
                    .await
            })
        };
        tokio::time::advance(Duration::from_millis(10)).await;
        cache.invalidate(&Invalidation::of_write(Operation::CreateWebhook));
        in_flight.await.unwrap().0.unwrap();

        let (_, status) = cache
            .get_or_fetch(&hooks, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(status, CacheStatus::Miss, "stale read served after a write");
        let (_, status) = cache
            .get_or_fetch(&usage, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(status, CacheStatus::Hit, "unrelated read dropped");
    }
}
