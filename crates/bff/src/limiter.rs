//! Traffic shaping: a sliding window in front of the upstream, with a FIFO
//! queue instead of failures.
//!
//! The upstream allows `max` requests per sliding `window` per key (60/60s).
//! A request is admitted when fewer than `max` were sent within the last
//! `window + margin`; otherwise it waits, in arrival order, until the oldest
//! send leaves that span. The margin absorbs the difference between the time
//! we send and the time the upstream counts (network and scheduling delay), so
//! our window is always a little stricter than theirs and a burst through the
//! BFF never earns an upstream `429`. An upstream `429` still pauses the queue
//! for its `Retry-After`.
//!
//! Waiting is bounded: a request that would wait longer than its budget is
//! refused at once with the time a retry would be admitted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex as SyncMutex;
use std::time::Duration;

use conferbot::RateSpec;
use tokio::sync::Mutex;
use tokio::time::{sleep_until, timeout_at, Instant};

/// A request the window could not admit within its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// When a retry would likely be admitted.
    pub retry_after: Duration,
}

/// The sliding window of one API key, with its FIFO queue of waiters.
#[derive(Debug)]
pub struct SlidingWindow {
    spec: RateSpec,
    margin: Duration,
    /// Send times still inside `window + margin`, oldest first. The tokio mutex
    /// is fair, so holding it while waiting makes the queue first-in first-out.
    sent: Mutex<VecDeque<Instant>>,
    /// Set by an upstream `429`: nothing is sent before this instant.
    paused_until: SyncMutex<Option<Instant>>,
    /// Requests queued, for the `Retry-After` estimate of a refusal.
    waiting: AtomicUsize,
}

impl SlidingWindow {
    /// A window for `spec`, with the default safety margin: 2% of the window
    /// and at least 200 ms (1.2 s at 60/60s).
    pub fn new(spec: RateSpec) -> Self {
        Self::with_margin(spec, default_margin(spec.window))
    }

    /// A window for `spec` with an explicit safety `margin`.
    pub fn with_margin(spec: RateSpec, margin: Duration) -> Self {
        Self {
            spec,
            margin,
            sent: Mutex::new(VecDeque::new()),
            paused_until: SyncMutex::new(None),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The rate it shapes to.
    pub fn spec(&self) -> RateSpec {
        self.spec
    }

    /// Waits for a turn to send, at most `budget`; returns how long it waited.
    /// Dropping the future leaves the queue without taking a turn.
    pub async fn acquire(&self, budget: Duration) -> Result<Duration, Refused> {
        let start = Instant::now();
        let deadline = start + budget;
        let _waiting = WaitingGuard::enter(&self.waiting);
        let Ok(mut sent) = timeout_at(deadline, self.sent.lock()).await else {
            return Err(Refused {
                retry_after: self.queue_estimate(),
            });
        };
        let span = self.spec.window + self.margin;
        loop {
            let now = Instant::now();
            while sent.front().is_some_and(|&t| now.duration_since(t) >= span) {
                sent.pop_front();
            }
            let mut ready_at = now;
            if sent.len() >= self.spec.max as usize {
                if let Some(&oldest) = sent.front() {
                    ready_at = oldest + span;
                }
            }
            if let Some(paused) = self.paused_until() {
                ready_at = ready_at.max(paused);
            }
            if ready_at <= now {
                sent.push_back(now);
                return Ok(now - start);
            }
            if ready_at > deadline {
                return Err(Refused {
                    retry_after: ready_at - now,
                });
            }
            // Woken at `ready_at`, the loop checks again: a pause may have
            // been set or extended meanwhile.
            sleep_until(ready_at).await;
        }
    }

    /// Stops admitting for `duration` (an upstream `429` said `Retry-After`).
    /// A longer pause already in force is kept.
    pub fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        if let Ok(mut paused) = self.paused_until.lock() {
            *paused = Some(paused.map_or(until, |p| p.max(until)));
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        self.paused_until.lock().ok().and_then(|p| *p)
    }

    /// Roughly when the queue ahead will have drained: one window per `max`
    /// waiters.
    fn queue_estimate(&self) -> Duration {
        let waiting = self.waiting.load(Ordering::Relaxed);
        let windows = waiting / (self.spec.max.max(1) as usize) + 1;
        (self.spec.window + self.margin).saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX))
    }
}

/// The default safety margin for a window: 2%, at least 200 ms.
pub fn default_margin(window: Duration) -> Duration {
    (window / 50).max(Duration::from_millis(200))
}

/// Counts a waiter for as long as it is queued, however it leaves.
struct WaitingGuard<'a>(&'a AtomicUsize);

impl<'a> WaitingGuard<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn window(max: u32, window_ms: u64, margin_ms: u64) -> Arc<SlidingWindow> {
        Arc::new(SlidingWindow::with_margin(
            RateSpec {
                max,
                window: MS * window_ms as u32,
            },
            MS * margin_ms as u32,
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn admits_max_at_once_then_one_per_expiry() {
        let w = window(3, 1_000, 100);
        for _ in 0..3 {
            assert_eq!(w.acquire(MS * 10_000).await, Ok(Duration::ZERO));
        }
        // The 4th waits until the 1st is older than window + margin.
        assert_eq!(w.acquire(MS * 10_000).await, Ok(MS * 1_100));
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_sends_in_any_window_plus_margin() {
        let w = window(5, 1_000, 50);
        let start = Instant::now();
        let tasks: Vec<_> = (0..23)
            .map(|_| {
                let w = Arc::clone(&w);
                tokio::spawn(async move {
                    w.acquire(MS * 60_000).await.unwrap();
                    Instant::now()
                })
            })
            .collect();
        let mut sends = Vec::new();
        for task in tasks {
            sends.push(task.await.unwrap());
        }
        sends.sort();
        for pair in sends.windows(6) {
            assert!(pair[5] - pair[0] >= MS * 1_050, "{:?}", pair[5] - pair[0]);
        }
        // 23 sends at 5 per 1.05 s: the last batch starts after 4 spans.
        assert_eq!(*sends.last().unwrap() - start, MS * 4_200);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_first_in_first_out() {
        let w = window(1, 100, 0);
        let order = Arc::new(SyncMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..6 {
            let (w, order) = (Arc::clone(&w), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                w.acquire(MS * 10_000).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            // Let each task reach the queue before the next one is spawned.
            tokio::task::yield_now().await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_past_the_budget_with_a_retry_time() {
        let w = window(2, 1_000, 0);
        w.acquire(MS).await.unwrap();
        w.acquire(MS).await.unwrap();
        let refused = w.acquire(MS * 300).await.unwrap_err();
        assert_eq!(refused.retry_after, MS * 1_000);
        // A refusal took no turn: once the window passes, two go through again.
        tokio::time::advance(MS * 1_000).await;
        w.acquire(MS).await.unwrap();
        w.acquire(MS).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_upstream_429_pauses_the_queue() {
        let w = window(100, 1_000, 0);
        w.acquire(MS).await.unwrap();
        w.pause(MS * 2_000);
        assert_eq!(w.acquire(MS * 5_000).await, Ok(MS * 2_000));
        // A pause longer than the budget is refused at once, saying how long.
        w.pause(MS * 30_000);
        let refused = w.acquire(MS * 5_000).await.unwrap_err();
        assert_eq!(refused.retry_after, MS * 30_000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_set_while_waiting_is_honoured() {
        let w = window(1, 1_000, 0);
        w.acquire(MS).await.unwrap();
        let waiter = {
            let w = Arc::clone(&w);
            tokio::spawn(async move { w.acquire(MS * 10_000).await })
        };
        tokio::task::yield_now().await;
        tokio::time::advance(MS * 500).await;
        w.pause(MS * 2_000);
        assert_eq!(waiter.await.unwrap(), Ok(MS * 2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let w = window(1, 1_000, 0);
        w.acquire(MS).await.unwrap();
        let impatient = {
            let w = Arc::clone(&w);
            tokio::spawn(async move { w.acquire(MS * 10_000).await })
        };
        tokio::task::yield_now().await;
        impatient.abort();
        let _ = impatient.await;
        assert_eq!(w.acquire(MS * 10_000).await, Ok(MS * 1_000));
        assert_eq!(w.waiting.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn default_margin_scales_with_the_window() {
        assert_eq!(default_margin(Duration::from_secs(60)), MS * 1_200);
        assert_eq!(default_margin(Duration::from_secs(2)), MS * 200);
    }
}
