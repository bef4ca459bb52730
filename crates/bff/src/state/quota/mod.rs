//! What the BFF knows of the month's quota, behind one interface: in this
//! process ([`local`]) or shared by every replica through Redis ([`redis`],
//! one count of calls for all). The arithmetic (what is used, what is
//! refused, how far revalidations stretch) is the policy's
//! ([`conferbot_policy::quota`]).

pub(crate) mod local;
pub(crate) mod redis;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use conferbot_policy::quota::{
    self, MonthView, MonthlyBudget, QuotaBook, Spend, CLOCK_RESOLUTION_MS,
};
use conferbot_policy::quota_headers::MinuteView;
use conferbot_policy::refresh_budget::RefreshBudget;
use conferbot_policy::BffError;

use local::LocalQuota;
use redis::RedisQuota;

/// The month's quota as known, and the budgets it is spent under.
#[derive(Debug)]
pub(crate) struct QuotaStore {
    book: Book,
    budget: Option<MonthlyBudget>,
    refresh: RefreshBudget,
}

#[derive(Debug)]
enum Book {
    Local(LocalQuota),
    Redis(Arc<RedisQuota>),
}

impl QuotaStore {
    /// In this process.
    pub(crate) fn local(budget: Option<MonthlyBudget>, refresh: RefreshBudget) -> Self {
        Self {
            book: Book::Local(LocalQuota::default()),
            budget,
            refresh,
        }
    }

    /// Shared through Redis.
    pub(crate) fn redis(
        quota: Arc<RedisQuota>,
        budget: Option<MonthlyBudget>,
        refresh: RefreshBudget,
    ) -> Self {
        Self {
            book: Book::Redis(quota),
            budget,
            refresh,
        }
    }

    /// The book as known now (with Redis, as last read: at most a second old).
    fn book(&self) -> QuotaBook {
        match &self.book {
            Book::Local(quota) => quota.book(),
            Book::Redis(quota) => quota.book(),
        }
    }

    /// What `read` makes of the book as known now, without copying it
    /// (asked several times a request).
    fn read<R>(&self, read: impl FnOnce(&QuotaBook) -> R) -> R {
        match &self.book {
            Book::Local(quota) => quota.read(read),
            Book::Redis(quota) => quota.read(read),
        }
    }

    /// Why a call now would be refused (the month spent, or the budget).
    pub(crate) fn refusal(&self) -> Option<BffError> {
        self.read(|book| book.refusal(self.budget, now_ms()))
    }

    /// Whether a call must learn the month first (a budget needs the plan).
    pub(crate) fn needs_learning(&self) -> bool {
        self.read(|book| book.needs_learning(self.budget, self.refresh, now_ms()))
    }

    /// What the cache may spend, with `held` answers held here (with Redis,
    /// the shared cache's count is used instead).
    pub(crate) fn spend(&self, fresh_ms: u64, held: usize) -> Spend {
        let held = match &self.book {
            Book::Local(_) => held,
            Book::Redis(quota) => quota.held(),
        };
        self.read(|book| book.spend(self.budget, self.refresh, fresh_ms, held, now_ms()))
    }

    /// The month as known, for the headers.
    pub(crate) fn month(&self) -> Option<MonthView> {
        self.read(|book| book.month(now_ms()))
    }

    /// The shared window as last read (with Redis; `None` in process).
    pub(crate) fn shared_minute(&self, max: u32, span_ms: u64) -> Option<MinuteView> {
        match &self.book {
            Book::Local(_) => None,
            Book::Redis(quota) => Some(quota.minute(max, span_ms)),
        }
    }

    /// One own call that the upstream counts.
    pub(crate) async fn count_call(&self) {
        match &self.book {
            Book::Local(quota) => quota.update(|book| book.count_call(now_ms())),
            Book::Redis(quota) => quota.count_call().await,
        }
    }

    /// A `getUsage` answer passed: learn from it.
    pub(crate) async fn learn(&self, body: &[u8]) {
        let mut scratch = QuotaBook::default();
        if !scratch.learn_answer(body) {
            return;
        }
        let Some(learned) = scratch.learned else {
            return;
        };
        match &self.book {
            Book::Local(quota) => quota.update(|book| {
                book.roll(now_ms());
                book.learned = Some(learned);
                book.calls_at_learn = book.calls;
            }),
            Book::Redis(quota) => quota.learn(&learned).await,
        }
    }

    /// The upstream's `Date` header, read now.
    pub(crate) async fn learn_clock(&self, date: &str) {
        // Every answer has a `Date`: read in place, written only when the
        // clocks moved apart.
        let Some(offset) = quota::clock_offset(date, now_ms()) else {
            return;
        };
        let before = self.read(|book| book.clock_offset_ms);
        if offset.abs_diff(before) < CLOCK_RESOLUTION_MS {
            return;
        }
        match &self.book {
            Book::Local(quota) => quota.update(|book| book.clock_offset_ms = offset),
            Book::Redis(quota) => quota.set_clock(offset).await,
        }
    }

    /// The upstream refused for the month, with this `Retry-After`.
    pub(crate) async fn refused_for_month(&self, retry_after: Option<u64>) {
        let now = now_ms();
        let mut book = self.book();
        book.refused_for_month(retry_after, now);
        let until = book.refused_until.unwrap_or(now);
        match &self.book {
            Book::Local(quota) => quota.update(|book| book.refused_for_month(retry_after, now)),
            Book::Redis(quota) => {
                if let Some(learned) = &book.learned {
                    quota.learn(learned).await;
                }
                quota.refused_until(until).await;
            }
        }
    }
}

/// Unix ms: the month turns by wall-clock time.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
