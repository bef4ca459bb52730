//! The month's book shared by every replica: one Redis hash (`quota.lua`)
//! counting every replica's calls, holding the month learned from
//! `getUsage`, the upstream's monthly refusal and its clock. Each change is
//! one script run that also reads the whole book back (and the shared rate
//! window's state, for the quota headers); between changes, a replica
//! re-reads it at most once a second, in the background, when asked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use conferbot::Operation;
use conferbot_policy::quota::{Learned, QuotaBook};
use conferbot_policy::quota_headers::MinuteView;
use conferbot_policy::shared_state::wire::{encode_learned, QuotaReply, SharedQuota};
use conferbot_policy::shared_state::{keys, scripts, QUOTA_READ_EVERY};
use redis::Script;
use tokio::time::Instant;

use crate::redis_state::RedisState;

/// The shared book.
#[derive(Debug)]
pub(crate) struct RedisQuota {
    state: Arc<RedisState>,
    span_ms: u64,
    script: Script,
    /// The book as last read, and when.
    view: Mutex<(Option<SharedQuota>, Option<Instant>)>,
    refreshing: AtomicBool,
}

impl RedisQuota {
    /// The book, reading the window's sends over `span_ms`.
    pub(crate) fn new(state: Arc<RedisState>, span_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            state,
            span_ms,
            script: Script::new(scripts::QUOTA),
            view: Mutex::new((None, None)),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The book as last read; starts a re-read when it is over a second old.
    pub(crate) fn book(self: &Arc<Self>) -> QuotaBook {
        self.refresh_if_old();
        self.lock()
            .0
            .as_ref()
            .map(|view| view.book.clone())
            .unwrap_or_default()
    }

    /// What `read` makes of the book as last read (no copy); starts a
    /// re-read when it is over a second old.
    pub(crate) fn read<R>(self: &Arc<Self>, read: impl FnOnce(&QuotaBook) -> R) -> R {
        self.refresh_if_old();
        match &self.lock().0 {
            Some(view) => read(&view.book),
            None => read(&QuotaBook::default()),
        }
    }

    /// How many answers the shared cache holds (an over-count: index
    /// members outlive their answers for a while).
    pub(crate) fn held(self: &Arc<Self>) -> usize {
        self.refresh_if_old();
        self.lock()
            .0
            .as_ref()
            .map_or(0, |view| usize::try_from(view.held).unwrap_or(usize::MAX))
    }

    /// The shared window as last read.
    pub(crate) fn minute(self: &Arc<Self>, max: u32, span_ms: u64) -> MinuteView {
        self.refresh_if_old();
        match &self.lock().0 {
            Some(view) => view.minute(max, span_ms),
            None => MinuteView {
                limit: max,
                remaining: max,
                reset_ms: 0,
            },
        }
    }

    /// Counts one call for every replica.
    pub(crate) async fn count_call(&self) {
        self.run("count", String::new()).await;
    }

    /// Shares what a `getUsage` answer said.
    pub(crate) async fn learn(&self, learned: &Learned) {
        self.run("learn", encode_learned(learned)).await;
    }

    /// Shares the upstream's monthly refusal, until `until` (Unix ms).
    pub(crate) async fn refused_until(&self, until: u64) {
        self.run("refused", until.to_string()).await;
    }

    /// Shares the upstream's clock offset.
    pub(crate) async fn set_clock(&self, offset_ms: i64) {
        self.run("clock", offset_ms.to_string()).await;
    }

    fn refresh_if_old(self: &Arc<Self>) {
        let fresh = self
            .lock()
            .1
            .is_some_and(|read| read.elapsed() < QUOTA_READ_EVERY);
        if fresh || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        let quota = Arc::clone(self);
        runtime.spawn(async move {
            quota.run("read", String::new()).await;
            quota.refreshing.store(false, Ordering::Release);
        });
    }

    /// Runs `quota.lua` with `op` and keeps the book it answers.
    async fn run(&self, op: &str, value: String) {
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.state.key(keys::QUOTA))
            .key(self.state.key(keys::WINDOW))
            .key(self.state.key(keys::LEASES))
            .key(self.state.key(keys::GRANTED))
            .key(self.state.key(keys::PAUSE));
        for operation in Operation::ALL {
            invocation.key(self.state.key(&keys::index(operation)));
        }
        invocation.arg(op).arg(value).arg(self.span_ms);
        let mut conn = self.state.conn();
        let reply = invocation.invoke_async::<QuotaReply>(&mut conn).await;
        match self.state.track(reply) {
            Ok(reply) => {
                *self.lock() = (Some(SharedQuota::from_reply(reply)), Some(Instant::now()));
            }
            Err(err) => tracing::warn!(error = %err, op, "could not share the month's quota"),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Option<SharedQuota>, Option<Instant>)> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
