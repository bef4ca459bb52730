//! The in-process rate window: the policy's [`Window`] state machine under a
//! mutex, driven by tokio's clock.
//!
//! Each request takes a ticket for its client and polls: admitted, or told
//! when to poll again (it sleeps until then), or refused at once when its
//! turn is past its budget. A poll may grant turns to other waiters, and
//! every change of the queue (turns granted, a ticket refused or given up, a
//! pause) wakes the waiters to poll again; a waiter that goes away (its
//! request was dropped) leaves the queue at once, giving back a turn granted
//! to it.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use conferbot::RateSpec;
use conferbot_policy::client::ClientId;
use conferbot_policy::quota_headers::MinuteView;
use conferbot_policy::window::{Ticket, Turn, Window, WindowRefusal};
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

/// The sliding window of one API key, with its FIFO queue of waiters.
#[derive(Debug)]
pub(crate) struct LocalWindow {
    /// Time zero of the state machine's milliseconds.
    epoch: Instant,
    window: Mutex<Window>,
    /// Told whenever the queue or the pause changes.
    changed: Notify,
}

impl LocalWindow {
    /// A window for `spec`, with the policy's default safety margin, each
    /// client paced to `share_percent`, at most `monthly_cap` calls each.
    pub(crate) fn new(spec: RateSpec, share_percent: u8, monthly_cap: Option<u64>) -> Self {
        Self::with_window(Window::new(spec, share_percent).with_monthly_cap(monthly_cap))
    }

    fn with_window(window: Window) -> Self {
        Self {
            epoch: Instant::now(),
            window: Mutex::new(window),
            changed: Notify::new(),
        }
    }

    /// Waits for a turn to send for `client`, at most `budget`; returns how
    /// long it waited. Dropping the future leaves the queue without taking a
    /// turn.
    pub(crate) async fn acquire(
        &self,
        client: &ClientId,
        budget: Duration,
    ) -> Result<Duration, WindowRefusal> {
        let start = Instant::now();
        let deadline = self.millis(start + budget);
        let ticket = self
            .lock()
            .join(client, super::unix_secs())
            .map_err(WindowRefusal::ClientSpent)?;
        let mut place = Place {
            window: self,
            ticket: Some(ticket),
        };
        loop {
            // Registered before polling, so a change in between is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (turn, news) = {
                let mut window = self.lock();
                let turn = window.poll(ticket, self.millis(Instant::now()), deadline);
                (turn, window.take_news())
            };
            if news {
                self.changed.notify_waiters();
            }
            match turn {
                Turn::Admitted => {
                    place.ticket = None;
                    return Ok(start.elapsed());
                }
                Turn::Refused { retry_after_ms } => {
                    place.ticket = None;
                    return Err(WindowRefusal::Full {
                        retry_after: Duration::from_millis(retry_after_ms),
                    });
                }
                Turn::WaitUntil(at) => {
                    tokio::select! {
                        () = sleep_until(self.instant(at)) => {}
                        () = &mut changed => {}
                    }
                }
            }
        }
    }

    /// Stops admitting for `duration` (an upstream `429` said `Retry-After`).
    /// A longer pause already in force is kept.
    pub(crate) fn pause(&self, duration: Duration) {
        self.lock().pause(self.millis(Instant::now()), duration);
        self.changed.notify_waiters();
    }

    /// What the window would admit now, for the quota headers.
    pub(crate) fn room(&self) -> MinuteView {
        self.lock().room(self.millis(Instant::now()))
    }

    /// How many wait.
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.lock().queued()
    }

    /// The state machine. It never panics, so a poisoned lock still holds a
    /// consistent window.
    fn lock(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn instant(&self, millis: u64) -> Instant {
        self.epoch + Duration::from_millis(millis)
    }
}

/// A ticket in the queue; leaving without a turn (refused, or the request
/// went away) takes it out at once and lets those behind move up.
struct Place<'a> {
    window: &'a LocalWindow,
    ticket: Option<Ticket>,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let mut window = self.window.lock();
            window.leave(ticket);
            window.take_news();
            drop(window);
            self.window.changed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as SyncMutex};

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn window(max: u32, window_ms: u64, margin_ms: u64) -> Arc<LocalWindow> {
        let spec = RateSpec {
            max,
            window: MS * window_ms as u32,
        };
        Arc::new(LocalWindow::with_window(Window::with_margin(
            spec,
            MS * margin_ms as u32,
            100,
        )))
    }

    fn one() -> ClientId {
        ClientId::user("one").unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn admits_max_at_once_then_one_per_expiry() {
        let w = window(3, 1_000, 100);
        for _ in 0..3 {
            assert_eq!(w.acquire(&one(), MS * 10_000).await, Ok(Duration::ZERO));
        }
        // The 4th waits until the 1st is older than window + margin.
        assert_eq!(w.acquire(&one(), MS * 10_000).await, Ok(MS * 1_100));
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_sends_in_any_window_plus_margin() {
        let w = window(5, 1_000, 50);
        let start = Instant::now();
        let tasks: Vec<_> = (0..23)
            .map(|_| {
                let w = Arc::clone(&w);
                tokio::spawn(async move {
                    w.acquire(&one(), MS * 60_000).await.unwrap();
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
                w.acquire(&one(), MS * 10_000).await.unwrap();
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
        w.acquire(&one(), MS).await.unwrap();
        w.acquire(&one(), MS).await.unwrap();
        let refused = w.acquire(&one(), MS * 300).await.unwrap_err();
        assert_eq!(
            refused,
            WindowRefusal::Full {
                retry_after: MS * 1_000
            }
        );
        // A refusal took no turn: once the window passes, two go through again.
        tokio::time::advance(MS * 1_000).await;
        w.acquire(&one(), MS).await.unwrap();
        w.acquire(&one(), MS).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_upstream_429_pauses_the_queue() {
        let w = window(100, 1_000, 0);
        w.acquire(&one(), MS).await.unwrap();
        w.pause(MS * 2_000);
        assert_eq!(w.acquire(&one(), MS * 5_000).await, Ok(MS * 2_000));
        // A pause longer than the budget is refused at once, saying how long.
        w.pause(MS * 30_000);
        let refused = w.acquire(&one(), MS * 5_000).await.unwrap_err();
        assert_eq!(
            refused,
            WindowRefusal::Full {
                retry_after: MS * 30_000
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_set_while_waiting_is_honoured() {
        let w = window(1, 1_000, 0);
        w.acquire(&one(), MS).await.unwrap();
        let waiter = {
            let w = Arc::clone(&w);
            tokio::spawn(async move { w.acquire(&one(), MS * 10_000).await })
        };
        tokio::task::yield_now().await;
        tokio::time::advance(MS * 500).await;
        w.pause(MS * 2_000);
        assert_eq!(waiter.await.unwrap(), Ok(MS * 2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_from_one_client_waits_behind_another_s_request() {
        let spec = RateSpec {
            max: 4,
            window: MS * 1_000,
        };
        let w = Arc::new(LocalWindow::new(spec, 25, None));
        let attacker = ClientId::user("attacker").unwrap();
        let burst: Vec<_> = (0..40)
            .map(|_| {
                let (w, who) = (Arc::clone(&w), attacker.clone());
                tokio::spawn(async move { w.acquire(&who, MS * 60_000).await })
            })
            .collect();
        tokio::task::yield_now().await;
        tokio::time::advance(MS * 100).await;
        // The attacker is paced to 1 per 250 ms: the other client goes at
        // once, though 39 of the attacker's wait.
        let victim = ClientId::user("victim").unwrap();
        assert_eq!(w.acquire(&victim, MS * 10).await, Ok(Duration::ZERO));
        for task in burst {
            task.await.unwrap().unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let w = window(1, 1_000, 0);
        w.acquire(&one(), MS).await.unwrap();
        let impatient = {
            let w = Arc::clone(&w);
            tokio::spawn(async move { w.acquire(&one(), MS * 10_000).await })
        };
        tokio::task::yield_now().await;
        assert_eq!(w.queued(), 1);
        impatient.abort();
        let _ = impatient.await;
        assert_eq!(w.queued(), 0);
        assert_eq!(w.acquire(&one(), MS * 10_000).await, Ok(MS * 1_000));
        assert_eq!(w.queued(), 0);
    }
}
