//! `--refresh-budget`: what the BFF may spend on its own initiative.
//!
//! Two kinds of call are the BFF's own doing rather than a reader's need:
//! the background revalidation of a held answer past `--cache-ttl`, and the
//! re-read of a held answer that a webhook made stale (a chatbot's responses
//! page after `response.created`: the event carries ids, not the response).
//! A busy chatbot makes the second kind once per event, which at one
//! response a second is 86,400 calls a day. The refresh budget turns both
//! into a rate: each held key is refreshed at most every
//! `K × month_length / cap` (`K` keys held, `cap` this budget's calls), so
//! that refreshing every held key all month long spends at most `cap`: the
//! bound holds by construction, with no counter to keep or share.
//!
//! Reads the BFF does not hold (misses) are not limited by it: a reader
//! needs them (they stay under `--monthly-budget`, if set). A change that
//! no webhook announces then shows within that interval; a new response
//! shows at once anyway, since the widgets draw it from the event itself.

use std::fmt;
use std::str::FromStr;

use conferbot::Limit;

use crate::quota::MonthlyBudget;

/// `--refresh-budget`: a number of calls a month, a share of the plan's
/// monthly limit, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshBudget {
    /// No pacing: a read an event made stale is read again at once, a held
    /// answer revalidated every `--cache-ttl` (as stretched by the month).
    Off,
    /// Refreshes paced to spend at most this much of a month.
    Capped(MonthlyBudget),
}

impl RefreshBudget {
    /// The default: 10% of the plan's monthly limit (1,000 of Starter's
    /// 10,000), so that ten open dashboards on a busy chatbot cannot spend
    /// more than a tenth of the month on keeping themselves current.
    pub const DEFAULT: RefreshBudget = RefreshBudget::Capped(MonthlyBudget::Percent(10));

    /// The words besides a budget that `--refresh-budget` takes.
    pub const OFF: &'static str = "off";

    /// Whether refreshes are paced (then the plan must be learned).
    pub fn is_on(self) -> bool {
        matches!(self, Self::Capped(_))
    }

    /// The calls a month it allows for a plan with `limit` (`None`: off, or
    /// a share of an unlimited plan, which has no bound).
    pub fn cap(self, limit: Limit) -> Option<u64> {
        match self {
            Self::Off => None,
            Self::Capped(budget) => budget.cap(limit),
        }
    }

    /// The shortest time between two refreshes of one key with `held` keys
    /// held, a month of `month_ms` and a plan with `limit`: `K × month / cap`
    /// (at least one call; `None` when it sets no bound).
    pub fn interval_ms(self, limit: Limit, month_ms: u64, held: usize) -> Option<u64> {
        let cap = self.cap(limit)?.max(1);
        let keys = u64::try_from(held.max(1)).unwrap_or(u64::MAX);
        Some(
            u64::try_from(u128::from(keys) * u128::from(month_ms) / u128::from(cap))
                .unwrap_or(u64::MAX),
        )
    }
}

impl Default for RefreshBudget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for RefreshBudget {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if raw.trim() == Self::OFF {
            return Ok(Self::Off);
        }
        raw.parse::<MonthlyBudget>().map(Self::Capped).map_err(|_| {
            format!("--refresh-budget must be a number of calls a month (1000), a percentage of the plan's monthly limit (1% to 100%) or off, got {:?}", raw.trim())
        })
    }
}

impl fmt::Display for RefreshBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str(Self::OFF),
            Self::Capped(budget) => budget.fmt(f),
        }
    }
}
