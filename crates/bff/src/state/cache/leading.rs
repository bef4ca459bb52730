//! A call the in-process cache leads ([`super::local`]): its slot in the
//! table, settled once when the call ends, and the leader's read, which
//! makes the call in the leader's own task and hands what is left of it to
//! a task of its own if the leader goes away first.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use conferbot_policy::cache_table::{CallId, Finished, Settled};
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::{BffError, Target};
use tokio::sync::oneshot;

use super::local::LocalCache;
use crate::answer::Served;

/// A fetch as its leader runs it, boxed.
pub(super) type Fetch = Pin<Box<dyn Future<Output = Served> + Send>>;

/// The slot a call in flight holds in the table, settled once when the call
/// ends: its outcome (or the answer it falls back to) goes to those who
/// joined it.
pub(super) struct Slot {
    pub(super) cache: Arc<LocalCache>,
    pub(super) key: Target,
    pub(super) call: CallId,
    pub(super) done: Option<oneshot::Sender<Served>>,
}

impl Slot {
    /// Settles the slot with what the call came to; returns what the leader
    /// answers (the same as those who joined).
    fn finish(mut self, served: Served) -> Served {
        let now = self.cache.now();
        let finished = match &served.outcome {
            Ok(answer) => Finished::Answer(answer),
            Err(err) => Finished::Failed {
                status: err.status(),
            },
        };
        let settled = self
            .cache
            .lock()
            .settle(&self.key, self.call, finished, now);
        let served = match settled {
            Settled::Fallback { answer, age_ms } => {
                Served::held(answer, CacheStatus::Stale, age_ms)
            }
            Settled::Passed => served,
        };
        if let Some(done) = self.done.take() {
            let _ = done.send(served.clone());
        }
        served
    }

    /// Finishes `fetch` in a task of its own, then settles the slot. Outside
    /// a runtime (it is shutting down) the call is given up, and the slot
    /// settled as failed, so that nobody waits for it.
    pub(super) fn finish_apart(self, fetch: Fetch) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let served = fetch.await;
                    self.finish(served);
                });
            }
            Err(_) => {
                drop(fetch);
                self.finish(Served::fetched(Err(BffError::Internal)));
            }
        }
    }
}

/// The leader's read: the upstream call runs in the leader's own task (no
/// task spawned, no hand-over per miss). If the leader goes away first (its
/// browser disconnected), the call is not cancelled for those who joined
/// it: what is left of it moves to a task of its own ([`Slot::finish_apart`]).
pub(super) struct Leading {
    pub(super) fetch: Option<Fetch>,
    pub(super) slot: Option<Slot>,
}

impl Future for Leading {
    type Output = Served;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Served> {
        let this = &mut *self;
        let Some(fetch) = this.fetch.as_mut() else {
            // Polled after it was done: not done by anything here.
            return Poll::Ready(Served::fetched(Err(BffError::Internal)));
        };
        let served = ready!(fetch.as_mut().poll(cx));
        this.fetch = None;
        Poll::Ready(match this.slot.take() {
            Some(slot) => slot.finish(served),
            None => served,
        })
    }
}

impl Drop for Leading {
    fn drop(&mut self) {
        if let (Some(fetch), Some(slot)) = (self.fetch.take(), self.slot.take()) {
            slot.finish_apart(fetch);
        }
    }
}
