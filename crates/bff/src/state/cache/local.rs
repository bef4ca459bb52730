//! The in-process read cache: the policy's [`CacheTable`] under a mutex,
//! and the upstream calls it leads.
//!
//! The first request for a key makes the upstream call in its own task (no
//! task spawned per miss) and everyone who asks for the same key meanwhile
//! awaits the call's shared handle. If that first request goes away before
//! the call ends (its browser disconnected), the rest of the call moves to a
//! task of its own, so that it is not cancelled for the others. A
//! request that finds an answer due for revalidation is answered from it at
//! once and starts the refresh as a task nobody waits for. The table decides
//! the rest: what is fresh, stale or due, what a change patches, what a
//! failed call falls back to. With `--redis` it runs with a zero TTL in
//! front of the shared cache, joining identical reads of this replica before
//! they reach Redis.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use conferbot_policy::cache_table::{CacheTable, CallId, Freshness, Lookup};
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::quota::Spend;
use conferbot_policy::{BffError, Target};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::leading::{Leading, Slot};
use crate::answer::{Served, UpstreamAnswer};

/// A call in flight, as everyone who asked awaits it.
type InFlight = Shared<BoxFuture<'static, Served>>;

/// The read cache with its in-flight calls.
pub(crate) struct LocalCache {
    freshness: Freshness,
    /// Whether a leader makes its call in its own task (see [`LocalCache::joining`]).
    lead_inline: bool,
    /// Time zero of the table's milliseconds.
    epoch: Instant,
    table: Mutex<CacheTable<Arc<UpstreamAnswer>, InFlight>>,
}

impl std::fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("freshness", &self.freshness)
            .finish()
    }
}

impl LocalCache {
    /// A cache keeping answers as `freshness` says (a zero `fresh`:
    /// coalescing only, no cache).
    pub(crate) fn new(freshness: Freshness) -> Arc<Self> {
        Arc::new(Self {
            freshness,
            lead_inline: true,
            epoch: Instant::now(),
            table: Mutex::new(CacheTable::new(freshness)),
        })
    }

    /// Coalescing only (no TTL), in front of the shared cache, each leader's
    /// call in a task of its own as before: there the call is a conversation
    /// with Redis whose order against the month's background read (sent
    /// from a task the same request spawned) the replicas' quota headers
    /// rely on.
    pub(crate) fn joining() -> Arc<Self> {
        let none = Freshness {
            fresh: std::time::Duration::ZERO,
            stale: std::time::Duration::ZERO,
        };
        Arc::new(Self {
            freshness: none,
            lead_inline: false,
            epoch: Instant::now(),
            table: Mutex::new(CacheTable::new(none)),
        })
    }

    /// The answer for `key`: held, joined from a call in flight, or fetched
    /// by `fetch`; `spend` says what may be spent.
    pub(crate) async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: &Target,
        spend: Spend,
        fetch: F,
    ) -> Served
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UpstreamAnswer, BffError>> + Send + 'static,
    {
        self.get_or_join(key, spend, move || {
            let call = fetch();
            async move { Served::fetched(call.await) }
        })
        .await
    }

    /// Like [`LocalCache::get_or_fetch`], for a fetch that says how it got its
    /// answer (a shared cache may have had it): the caller that started the
    /// fetch gets that status, those who joined it get `Coalesced` (or
    /// `Stale`, for an answer held before a failed call).
    pub(crate) async fn get_or_join<F, Fut>(
        self: &Arc<Self>,
        key: &Target,
        spend: Spend,
        fetch: F,
    ) -> Served
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Served> + Send + 'static,
    {
        let (done, handle) = oneshot::channel::<Served>();
        let lookup = {
            let now = self.now();
            self.lock().lookup(key, now, spend, move |_| {
                handle
                    .map(|served| {
                        served.unwrap_or_else(|_| Served::fetched(Err(BffError::Internal)))
                    })
                    .boxed()
                    .shared()
            })
        };
        match lookup {
            Lookup::Hit { answer, age_ms } => Served::held(answer, CacheStatus::Hit, age_ms),
            Lookup::Stale {
                answer,
                age_ms,
                refresh,
            } => {
                if let Some(call) = refresh {
                    self.spawn(key.clone(), call, fetch());
                }
                Served::held(answer, CacheStatus::Stale, age_ms)
            }
            Lookup::Joined(shared) => {
                let mut served = shared.await;
                if served.cache != CacheStatus::Stale {
                    served.cache = CacheStatus::Coalesced;
                }
                served
            }
            Lookup::Led(call, shared) => {
                let slot = Slot {
                    cache: Arc::clone(self),
                    key: key.clone(),
                    call,
                    done: Some(done),
                };
                if !self.lead_inline {
                    slot.finish_apart(Box::pin(fetch()));
                    return shared.await;
                }
                Leading {
                    fetch: Some(Box::pin(fetch())),
                    slot: Some(slot),
                }
                .await
            }
        }
    }

    /// Applies a change to every held answer and call in flight.
    pub(crate) fn apply(&self, change: &Invalidation) {
        self.lock().apply(change);
    }

    /// How many answers are held.
    pub(crate) fn held(&self) -> usize {
        self.lock().held()
    }

    /// How long answers are fresh, in ms.
    pub(crate) fn fresh_ms(&self) -> u64 {
        u64::try_from(self.freshness.fresh.as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs `fetch` as a task nobody waits for (the revalidation of a stale
    /// answer), which settles its slot when done.
    fn spawn<Fut>(self: &Arc<Self>, key: Target, call: CallId, fetch: Fut)
    where
        Fut: Future<Output = Served> + Send + 'static,
    {
        let slot = Slot {
            cache: Arc::clone(self),
            key,
            call,
            done: None,
        };
        // Boxed: the fetch's state machine (window, transport, timeout) is
        // large, and the task would otherwise be copied by value on spawn.
        slot.finish_apart(Box::pin(fetch));
    }

    /// The table. It never panics, so a poisoned lock still holds a
    /// consistent table.
    pub(super) fn lock(&self) -> MutexGuard<'_, CacheTable<Arc<UpstreamAnswer>, InFlight>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use std::time::Duration;

    use axum::http::StatusCode;
    use bytes::Bytes;
    use conferbot::{Operation, PageRequest};

    use super::*;

    fn fresh_for(secs: u64) -> Freshness {
        Freshness {
            fresh: Duration::from_secs(secs),
            stale: Duration::ZERO,
        }
    }

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
            queued_ms: None,
            date: None,
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
        let cache = LocalCache::new(fresh_for(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                let fetch = fetcher(&calls, 200, Duration::from_millis(100));
                cache
                    .get_or_fetch(&key(Operation::ListChatbots), Spend::FREE, fetch)
                    .await
                    .cache
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
        let status = cache
            .get_or_fetch(&key(Operation::ListChatbots), Spend::FREE, fetch)
            .await
            .cache;
        assert_eq!(status, CacheStatus::Hit);
        tokio::time::advance(Duration::from_secs(2)).await;
        let fetch = fetcher(&calls, 200, Duration::ZERO);
        let status = cache
            .get_or_fetch(&key(Operation::ListChatbots), Spend::FREE, fetch)
            .await
            .cache;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_that_goes_away_does_not_cancel_the_call_for_those_who_joined() {
        let cache = LocalCache::new(fresh_for(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let chatbots = key(Operation::ListChatbots);
        let leader = {
            let (cache, fetch) = (
                Arc::clone(&cache),
                fetcher(&calls, 200, Duration::from_millis(100)),
            );
            let chatbots = chatbots.clone();
            tokio::spawn(async move { cache.get_or_fetch(&chatbots, Spend::FREE, fetch).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let follower = {
            let (cache, fetch) = (Arc::clone(&cache), fetcher(&calls, 200, Duration::ZERO));
            let chatbots = chatbots.clone();
            tokio::spawn(async move { cache.get_or_fetch(&chatbots, Spend::FREE, fetch).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        // The leader's browser disconnects: its request's future is dropped.
        leader.abort();
        assert!(leader.await.unwrap_err().is_cancelled());
        let joined = follower.await.unwrap();
        assert_eq!(joined.cache, CacheStatus::Coalesced);
        assert_eq!(joined.outcome.unwrap().status, 200);
        // The call finished and its answer is held.
        let after = cache
            .get_or_fetch(&chatbots, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(after.cache, CacheStatus::Hit);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn error_answers_are_not_kept() {
        let cache = LocalCache::new(fresh_for(2));
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let fetch = fetcher(&calls, 500, Duration::ZERO);
            let served = cache
                .get_or_fetch(&key(Operation::GetUsage), Spend::FREE, fetch)
                .await;
            let (outcome, status) = (served.outcome, served.cache);
            assert_eq!(outcome.unwrap().status, 500);
            assert_eq!(status, CacheStatus::Miss);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_still_coalesces_but_never_hits() {
        let cache = LocalCache::new(fresh_for(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let usage = key(Operation::GetUsage);
        let a = cache.get_or_fetch(
            &usage,
            Spend::FREE,
            fetcher(&calls, 200, Duration::from_millis(50)),
        );
        let b = cache.get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO));
        let (a, b) = tokio::join!(a, b);
        let (sa, sb) = (a.cache, b.cache);
        assert_eq!((sa, sb), (CacheStatus::Miss, CacheStatus::Coalesced));
        let status = cache
            .get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await
            .cache;
        assert_eq!(status, CacheStatus::Miss);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_drop_cached_and_in_flight_reads_they_make_stale() {
        let cache = LocalCache::new(fresh_for(2));
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = key(Operation::ListWebhooks);
        let usage = key(Operation::GetUsage);
        let _ = cache
            .get_or_fetch(&hooks, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;
        let _ = cache
            .get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;

        // A read in flight when the write lands must not be stored afterwards.
        let in_flight = {
            let cache = Arc::clone(&cache);
            let fetch = fetcher(&calls, 200, Duration::from_millis(100));
            tokio::spawn(async move {
                cache.apply(&Invalidation::of_write(Operation::CreateWebhook));
                cache
                    .get_or_fetch(&key(Operation::ListWebhooks), Spend::FREE, fetch)
                    .await
            })
        };
        tokio::time::advance(Duration::from_millis(10)).await;
        cache.apply(&Invalidation::of_write(Operation::CreateWebhook));
        in_flight.await.unwrap().outcome.unwrap();

        let status = cache
            .get_or_fetch(&hooks, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await
            .cache;
        assert_eq!(status, CacheStatus::Miss, "stale read served after a write");
        let status = cache
            .get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await
            .cache;
        assert_eq!(status, CacheStatus::Hit, "unrelated read dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn many_stale_hits_make_one_refresh_and_see_its_answer() {
        let cache = LocalCache::new(Freshness {
            fresh: Duration::from_secs(10),
            stale: Duration::from_secs(3_600),
        });
        let calls = Arc::new(AtomicUsize::new(0));
        let usage = key(Operation::GetUsage);
        let first = cache
            .get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!(first.cache, CacheStatus::Miss);
        tokio::time::advance(Duration::from_secs(11)).await;
        let mut stale = 0;
        for _ in 0..50 {
            let served = cache
                .get_or_fetch(
                    &usage,
                    Spend::FREE,
                    fetcher(&calls, 200, Duration::from_millis(100)),
                )
                .await;
            assert_eq!(served.age_ms.map(|ms| ms / 1_000), Some(11));
            stale += usize::from(served.cache == CacheStatus::Stale);
        }
        assert_eq!(
            stale, 50,
            "every request answered at once from what is held"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one refresh for all of them"
        );
        let after = cache
            .get_or_fetch(&usage, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;
        assert_eq!((after.cache, after.age_ms), (CacheStatus::Hit, Some(100)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_call_serves_what_was_held_marked_stale() {
        let cache = LocalCache::new(fresh_for(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = key(Operation::ListWebhooks);
        let _ = cache
            .get_or_fetch(&hooks, Spend::FREE, fetcher(&calls, 200, Duration::ZERO))
            .await;
        cache.apply(&Invalidation::of_write(Operation::CreateWebhook));
        let served = cache
            .get_or_fetch(&hooks, Spend::FREE, fetcher(&calls, 503, Duration::ZERO))
            .await;
        assert_eq!(served.cache, CacheStatus::Stale);
        assert_eq!(served.outcome.unwrap().status, 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
