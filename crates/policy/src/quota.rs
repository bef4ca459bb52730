//! The month's quota as a BFF knows it, and what it may spend.
//!
//! The BFF learns the plan's limit and the month's use from every `getUsage`
//! answer that passes through it ([`QuotaBook::learn_answer`]), counts its
//! own upstream calls since ([`QuotaBook::count_call`]; with `--redis`, all
//! replicas together), and learns the upstream's clock from its `Date`
//! headers, since the month turns by the upstream's clock. The month's use
//! as known is then `used` then plus the calls counted since.
//!
//! A call is known to be refused ([`QuotaBook::refusal`]) when the upstream
//! refused for the month (`429` `{"error": "Monthly API limit reached"}`,
//! whose `Retry-After` reaches the month's turn), or the use reached the
//! plan's limit, or the `--monthly-budget` ([`MonthlyBudget`]): then no call
//! is made until the month turns, and held answers are served, marked stale.
//!
//! Revalidation intervals stretch to stay under the cap (the budget, or the
//! plan's limit without one, [`QuotaBook::spend`]): with `K` answers held,
//! `R` calls left under the cap and `T` until the month turns, each key is
//! revalidated at most every `max(--cache-ttl, K × T / R)`, the interval at
//! which revalidating all of them until the month's end would spend exactly
//! what is left. Reads that miss spend too, and lengthen the interval.
//!
//! What the BFF spends on its own initiative, revalidations and re-reads of
//! answers a change made stale, is paced further by `--refresh-budget`
//! ([`RefreshBudget`], 10% of the plan's limit by default): each key at
//! most every `K × month_length / refresh_cap`, so that refreshing every
//! held key all month spends at most that cap. Under it or a monthly budget,
//! a read that a change made stale is read again at most once per interval
//! (with neither, at once). Until the plan is learned, the interval is
//! `--cache-ttl`.
//!
//! Times are Unix milliseconds on the caller's clock.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use conferbot::protocol::api::MONTHLY_LIMIT_ERROR;
use conferbot::{ApiErrorBody, DataEnvelope, Limit, Usage};
use serde::{Deserialize, Serialize};

pub use crate::calendar::clock_offset;
use crate::calendar::{month_length_ms, month_start_secs, next_month};
use crate::error::BffError;
use crate::refresh_budget::RefreshBudget;

/// The smallest change of the upstream's clock offset worth recording: an
/// HTTP `Date` has a resolution of a second, so a difference under two is
/// the header's rounding, not news.
pub const CLOCK_RESOLUTION_MS: u64 = 2_000;

/// Whether the upstream counts a call it answered with `status` against the
/// month: every answer but its refusals (`401`, `403`, `429`).
pub fn counts(status: u16) -> bool {
    !matches!(status, 401 | 403 | 429)
}

/// Whether an upstream answer (`status`, checked `body`) is its refusal for
/// the month: a `429` `{"error": "Monthly API limit reached"}`, which no
/// pause of the minute window helps.
pub fn is_monthly_refusal(status: u16, body: &[u8]) -> bool {
    status == 429
        && serde_json::from_slice::<ApiErrorBody>(body)
            .is_ok_and(|body| body.error == MONTHLY_LIMIT_ERROR)
}

/// What the cache may spend at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    /// Whether an upstream call may be made now.
    pub may_call: bool,
    /// The shortest time between two revalidations of one key, in ms.
    pub interval_ms: u64,
    /// The shortest time between two reads of one key that a change made
    /// stale, in ms: none without a budget (`--refresh-budget off` and no
    /// `--monthly-budget`: a changed read is read again at once); else the
    /// revalidation interval, so that a busy chatbot's responses cannot
    /// spend the month in days (what is held is served, marked stale,
    /// meanwhile; the widgets show a new response from its event).
    pub reread_ms: u64,
}

impl Spend {
    /// No limit known: call when needed, revalidate when due.
    pub const FREE: Spend = Spend {
        may_call: true,
        interval_ms: 0,
        reread_ms: 0,
    };

    /// Nothing may be spent.
    pub const NONE: Spend = Spend {
        may_call: false,
        interval_ms: u64::MAX,
        reread_ms: u64::MAX,
    };
}

/// `--monthly-budget`: a cap on the month's use, in calls or as a share of
/// the plan's monthly limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthlyBudget {
    /// At most this many calls this month (`8000`).
    Calls(u64),
    /// At most this percentage of the plan's limit (`80%`, 1..=100).
    Percent(u8),
}

impl MonthlyBudget {
    /// The cap for a plan with `limit` (a share of an unlimited plan has none).
    pub fn cap(self, limit: Limit) -> Option<u64> {
        match (self, limit) {
            (Self::Calls(n), Limit::Calls(limit)) => Some(n.min(limit)),
            (Self::Calls(n), Limit::Unlimited) => Some(n),
            (Self::Percent(p), Limit::Calls(limit)) => {
                Some(u64::try_from(u128::from(limit) * u128::from(p) / 100).unwrap_or(limit))
            }
            (Self::Percent(_), Limit::Unlimited) => None,
        }
    }
}

impl FromStr for MonthlyBudget {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bad = || {
            format!("--monthly-budget must be a number of calls (8000) or a percentage of the plan's monthly limit (1% to 100%), got {raw:?}")
        };
        match raw.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<u8>() {
                Ok(p) if (1..=100).contains(&p) => Ok(Self::Percent(p)),
                _ => Err(bad()),
            },
            None => match raw.parse::<u64>() {
                Ok(n) if n > 0 => Ok(Self::Calls(n)),
                _ => Err(bad()),
            },
        }
    }
}

impl fmt::Display for MonthlyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Calls(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// What a `getUsage` answer said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learned {
    /// The month it counted, `YYYY-MM` (the upstream's, UTC).
    pub month: String,
    /// The plan's monthly limit.
    pub limit: Limit,
    /// Calls used that month, then.
    pub used: u64,
}

/// The month as known at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthView {
    /// `YYYY-MM`.
    pub month: String,
    /// The plan's monthly limit.
    pub limit: Limit,
    /// Calls used: as learned, plus the calls counted since.
    pub used: u64,
    /// When the month turns, Unix ms on our clock.
    pub resets_at_ms: u64,
    /// The upstream's clock minus ours, in ms.
    pub clock_offset_ms: i64,
}

impl MonthView {
    /// When the month turns on the upstream's clock (its calendar names the
    /// months: `2025-02-01T00:00:00.000Z`), Unix ms.
    pub fn resets_at_upstream_ms(&self) -> i64 {
        i64::try_from(self.resets_at_ms)
            .unwrap_or(i64::MAX)
            .saturating_add(self.clock_offset_ms)
    }

    /// How long the month is (28 to 31 days), in ms.
    pub fn length_ms(&self) -> Option<u64> {
        month_length_ms(&self.month)
    }

    /// Calls left under the plan's limit.
    pub fn remaining(&self) -> Limit {
        match self.limit {
            Limit::Calls(limit) => Limit::Calls(limit.saturating_sub(self.used)),
            Limit::Unlimited => Limit::Unlimited,
        }
    }
}

/// What the BFF knows of the month; replicas share one (`--redis`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaBook {
    /// The last `getUsage` answer's month, limit and use.
    pub learned: Option<Learned>,
    /// [`QuotaBook::calls`] when it was learned.
    pub calls_at_learn: u64,
    /// Own upstream calls that the upstream counts, ever.
    pub calls: u64,
    /// The upstream refused for the month: no call before this (Unix ms).
    pub refused_until: Option<u64>,
    /// The upstream's clock minus ours, in ms (from its `Date` headers).
    pub clock_offset_ms: i64,
}

impl QuotaBook {
    /// Learns from a `getUsage` answer's body (`{"data": usage}`); whether
    /// it was one.
    pub fn learn_answer(&mut self, body: &[u8]) -> bool {
        match serde_json::from_slice::<DataEnvelope<Usage>>(body) {
            Ok(envelope) => {
                self.learn(&envelope.data);
                true
            }
            Err(_) => false,
        }
    }

    /// Learns the month's limit and use.
    pub fn learn(&mut self, usage: &Usage) {
        self.learned = Some(Learned {
            month: usage.month.clone(),
            limit: usage.limit,
            used: usage.used,
        });
        self.calls_at_learn = self.calls;
    }

    /// Learns the upstream's clock from a `Date` header read at `now`.
    pub fn learn_clock(&mut self, date: &str, now: u64) {
        if let Some(offset) = clock_offset(date, now) {
            self.clock_offset_ms = offset;
        }
    }

    /// Learns the upstream's clock from its `Date`, already read as Unix ms
    /// (a server with a date parser of its own: JS's `Date.parse`), at `now`.
    pub fn learn_clock_ms(&mut self, upstream_ms: i64, now: u64) {
        self.clock_offset_ms = crate::calendar::offset_of(upstream_ms, now);
    }

    /// Counts one own call that the upstream counts, at `now` (a month that
    /// turned meanwhile starts over first).
    pub fn count_call(&mut self, now: u64) {
        self.roll(now);
        self.calls = self.calls.saturating_add(1);
    }

    /// The upstream refused for the month at `now`, its `Retry-After`
    /// reaching the month's turn: no call before then, and the month's use
    /// is its limit.
    pub fn refused_for_month(&mut self, retry_after_secs: Option<u64>, now: u64) {
        // Without a usable Retry-After, the month's end as known (or a day).
        let until = retry_after_secs
            .map(|secs| now.saturating_add(secs.saturating_mul(1_000)))
            .or_else(|| self.month(now).map(|m| m.resets_at_ms))
            .unwrap_or(now.saturating_add(86_400_000));
        self.refused_until = Some(self.refused_until.unwrap_or(0).max(until));
        // The upstream's word: the month's use is at its limit, whatever was
        // learnt (others share the key).
        let calls = self.calls;
        if let Some(learned) = self.learned.as_mut() {
            if let Limit::Calls(limit) = learned.limit {
                learned.used = limit;
                self.calls_at_learn = calls;
            }
        }
    }

    /// What would be refused at `now`, and why: the month spent by the
    /// upstream's word, its plan's limit, or `budget`.
    pub fn refusal(&self, budget: Option<MonthlyBudget>, now: u64) -> Option<BffError> {
        self.at(now).refusal(budget, now)
    }

    /// Whether a call must first learn the month (a budget needs the plan:
    /// `--monthly-budget`, or `--refresh-budget` unless it is off).
    pub fn needs_learning(
        &self,
        budget: Option<MonthlyBudget>,
        refresh: RefreshBudget,
        _now: u64,
    ) -> bool {
        // Rolling to a new month keeps what was learned (its use restarts
        // at zero), so the book at any moment has learned exactly when this
        // one has: no need to roll it to `now` to know.
        (budget.is_some() || refresh.is_on()) && self.learned.is_none()
    }

    /// What the cache may spend at `now` with `held` answers held, answers
    /// fresh for `fresh_ms` (see the module doc for the stretch and the
    /// refresh budget's pace).
    pub fn spend(
        &self,
        budget: Option<MonthlyBudget>,
        refresh: RefreshBudget,
        fresh_ms: u64,
        held: usize,
        now: u64,
    ) -> Spend {
        let at = self.at(now);
        if at.refusal(budget, now).is_some() {
            return Spend::NONE;
        }
        let view = at.figures(now);
        let stretched = view.as_ref().and_then(|view| {
            let cap = match budget {
                Some(budget) => budget.cap(view.limit),
                None => view.limit.calls(),
            }?;
            let left_calls = cap.saturating_sub(view.used).max(1);
            let left_ms = view.resets_at_ms.saturating_sub(now);
            let keys = u64::try_from(held.max(1)).unwrap_or(u64::MAX);
            Some(
                u64::try_from(u128::from(keys) * u128::from(left_ms) / u128::from(left_calls))
                    .unwrap_or(u64::MAX),
            )
        });
        let paced = view.as_ref().and_then(|view| {
            let length = month_length_ms(&at.book.learned.as_ref()?.month)?;
            refresh.interval_ms(view.limit, length, held)
        });
        let interval_ms = stretched.unwrap_or(0).max(paced.unwrap_or(0)).max(fresh_ms);
        let reread = budget.is_some() || refresh.is_on();
        Spend {
            may_call: true,
            interval_ms,
            reread_ms: if reread { interval_ms } else { 0 },
        }
    }

    /// The month at `now`: as learned, or the next one started from zero
    /// when it turned since; `None` before anything was learned.
    pub fn month(&self, now: u64) -> Option<MonthView> {
        self.at(now).month(now)
    }

    /// Starts the next month when this one turned by `now`: the upstream's
    /// refusal ended, or the learned month's end (by its clock) passed.
    pub fn roll(&mut self, now: u64) {
        if self.turns_by(now) {
            *self = self.rolled(now);
        }
    }

    /// The book at `now`: this one, or a copy rolled to the next month when
    /// it turned since (asked several times a request: copied only when it
    /// turns), with its month's end worked out once.
    fn at(&self, now: u64) -> At<'_> {
        let end = self.learned_month_end();
        let turns = self.refused_until.is_some_and(|until| until <= now)
            || end.is_some_and(|end| end <= now);
        if !turns {
            return At {
                book: Cow::Borrowed(self),
                month_end: end,
            };
        }
        let book = self.rolled(now);
        let month_end = book.learned_month_end();
        At {
            book: Cow::Owned(book),
            month_end,
        }
    }

    /// When the learned month ends, on our clock.
    fn learned_month_end(&self) -> Option<u64> {
        self.learned
            .as_ref()
            .and_then(|learned| self.month_end(&learned.month))
    }

    /// Whether [`QuotaBook::rolled`] would change anything at `now`.
    fn turns_by(&self, now: u64) -> bool {
        self.refused_until.is_some_and(|until| until <= now)
            || self.learned_month_end().is_some_and(|end| end <= now)
    }

    fn rolled(&self, now: u64) -> QuotaBook {
        let mut book = self.clone();
        let refusal_ended = book.refused_until.is_some_and(|until| until <= now);
        if refusal_ended {
            book.refused_until = None;
        }
        let Some(learned) = &book.learned else {
            return book;
        };
        let ended = book.month_end(&learned.month).is_some_and(|end| end <= now);
        if refusal_ended || ended {
            let upstream_now = i64::try_from(now)
                .unwrap_or(i64::MAX)
                .saturating_add(book.clock_offset_ms);
            let month = conferbot::timestamp::month_of_ms(upstream_now);
            // A refusal's end is the turn even if the clocks disagree.
            let month = if month <= learned.month {
                next_month(&learned.month).unwrap_or(month)
            } else {
                month
            };
            book.learned = Some(Learned {
                month,
                limit: learned.limit,
                used: 0,
            });
            book.calls_at_learn = book.calls;
        }
        book
    }

    /// When `month` (`YYYY-MM`, the upstream's) ends, on our clock.
    fn month_end(&self, month: &str) -> Option<u64> {
        let secs = month_start_secs(month, true)?;
        let ours = secs
            .saturating_mul(1_000)
            .saturating_sub(self.clock_offset_ms);
        u64::try_from(ours).ok()
    }
}

/// A [`QuotaBook`] as it stands at one moment ([`QuotaBook::at`]).
struct At<'a> {
    book: Cow<'a, QuotaBook>,
    /// When its learned month ends, on our clock.
    month_end: Option<u64>,
}

impl At<'_> {
    /// See [`QuotaBook::refusal`].
    fn refusal(&self, budget: Option<MonthlyBudget>, now: u64) -> Option<BffError> {
        if let Some(until) = self.book.refused_until.filter(|until| *until > now) {
            return Some(month_spent(until - now, None));
        }
        let view = self.figures(now)?;
        let left = view.resets_at_ms.saturating_sub(now);
        if view.limit.calls().is_some_and(|limit| view.used >= limit) {
            return Some(month_spent(left, None));
        }
        let cap = budget.and_then(|b| b.cap(view.limit))?;
        (view.used >= cap).then(|| month_spent(left, Some(cap)))
    }

    /// See [`QuotaBook::month`].
    fn month(&self, now: u64) -> Option<MonthView> {
        let figures = self.figures(now)?;
        Some(MonthView {
            month: self.book.learned.as_ref()?.month.clone(),
            limit: figures.limit,
            used: figures.used,
            resets_at_ms: figures.resets_at_ms,
            clock_offset_ms: self.book.clock_offset_ms,
        })
    }

    /// The month's figures without its name: what a refusal and a spend
    /// need, on every request, without copying the name.
    fn figures(&self, now: u64) -> Option<Figures> {
        let book = &*self.book;
        let learned = book.learned.as_ref()?;
        let resets_at_ms = match book.refused_until.filter(|until| *until > now) {
            Some(until) => until,
            None => self.month_end?,
        };
        Some(Figures {
            limit: learned.limit,
            used: learned
                .used
                .saturating_add(book.calls.saturating_sub(book.calls_at_learn)),
            resets_at_ms,
        })
    }
}

/// The figures of a [`MonthView`].
#[derive(Debug, Clone, Copy)]
struct Figures {
    limit: Limit,
    used: u64,
    resets_at_ms: u64,
}

fn month_spent(left_ms: u64, budget: Option<u64>) -> BffError {
    BffError::MonthSpent {
        retry_after: std::time::Duration::from_millis(left_ms),
        budget,
    }
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
