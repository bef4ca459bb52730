//! Monthly API-call quotas per workspace, and the `GET /usage` answer.
//!
//! What counts: every call that passed auth, the plan check and both limits,
//! whatever its final status (a `404` or `400` costs a call, as it costs the
//! server work). Calls refused with `401`, `403` or `429` do not count, so a
//! client hammering a full window cannot burn its month.

use std::collections::HashMap;

use conferbot::{Limit, Plan, Usage};

/// Calls made this month, per workspace. A new month starts from zero.
#[derive(Debug, Clone, Default)]
pub struct UsageBook {
    months: HashMap<usize, (String, u64)>,
}

/// Why a call was refused by the monthly quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExhausted {
    /// The plan's monthly calls.
    pub limit: u64,
}

impl UsageBook {
    /// Calls of workspace `ws` in `month` (`YYYY-MM`).
    pub fn used(&self, ws: usize, month: &str) -> u64 {
        match self.months.get(&ws) {
            Some((m, used)) if m == month => *used,
            _ => 0,
        }
    }

    /// Sets the calls of workspace `ws` in `month` (the admin route's lever).
    pub fn set(&mut self, ws: usize, month: &str, used: u64) {
        self.months.insert(ws, (month.to_owned(), used));
    }

    /// Counts one call of `ws` in `month` unless `plan`'s quota is spent.
    pub fn count(&mut self, ws: usize, month: &str, plan: &Plan) -> Result<u64, QuotaExhausted> {
        let used = self.used(ws, month);
        if let Limit::Calls(limit) = monthly_limit(plan) {
            if used >= limit {
                return Err(QuotaExhausted { limit });
            }
        }
        let used = used.saturating_add(1);
        self.set(ws, month, used);
        Ok(used)
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.months.clear();
    }
}

/// The plan's monthly calls; a plan this version does not know is unlimited.
pub fn monthly_limit(plan: &Plan) -> Limit {
    plan.monthly_calls().unwrap_or(Limit::Unlimited)
}

/// The `GET /usage` answer for `plan` having made `used` calls in `month`.
pub fn usage(plan: &Plan, month: &str, used: u64) -> Usage {
    let limit = monthly_limit(plan);
    let remaining = match limit {
        Limit::Calls(n) => Limit::Calls(n.saturating_sub(used)),
        Limit::Unlimited => Limit::Unlimited,
    };
    Usage {
        month: month.to_owned(),
        plan: plan.clone(),
        used,
        limit,
        remaining,
    }
}

/// The 429 `message` of an exhausted quota, naming the plan and its limit.
pub fn exhausted_message(plan: &Plan, limit: u64) -> String {
    format!(
        "The {} plan allows {limit} API calls per month; the quota resets at the start of next month (UTC).",
        plan.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_until_the_plan_limit_then_refuses() {
        let mut book = UsageBook::default();
        book.set(1, "2025-01", 9_999);
        assert_eq!(book.count(1, "2025-01", &Plan::Starter), Ok(10_000));
        assert_eq!(
            book.count(1, "2025-01", &Plan::Starter),
            Err(QuotaExhausted { limit: 10_000 })
        );
        // A new month starts over.
        assert_eq!(book.count(1, "2025-02", &Plan::Starter), Ok(1));
        book.set(4, "2025-02", u64::MAX - 1);
        assert!(book.count(4, "2025-02", &Plan::Enterprise).is_ok());
    }

    #[test]
    fn usage_answer() {
        let u = usage(&Plan::Starter, "2025-01", 1_423);
        assert_eq!(u.limit, Limit::Calls(10_000));
        assert_eq!(u.remaining, Limit::Calls(8_577));
        let u = usage(&Plan::Enterprise, "2025-01", 5);
        assert_eq!((u.limit, u.remaining), (Limit::Unlimited, Limit::Unlimited));
        assert_eq!(usage(&Plan::Pro, "m", 60_000).remaining, Limit::Calls(0));
    }
}
