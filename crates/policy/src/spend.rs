//! Per-client monthly spend caps (`--client-monthly-calls N`): one client
//! (an address, or a user named by the authorisation step) may make at most
//! N upstream calls through this BFF per calendar month (UTC), so it cannot
//! spend the key's monthly quota for everyone (at 60 a minute, a Starter
//! plan's 10,000 calls go in under three hours).
//!
//! A call is counted when it takes a turn in the rate window, reserved when
//! it joins the queue (so concurrent requests of one client cannot overshoot
//! the cap) and given back if it leaves without a turn. Cache hits and
//! coalesced reads spend nothing. The shared window (`window.lua`) keeps the
//! same counts in Redis for every replica.
//!
//! How it composes with the BFF's global monthly budget: they are
//! independent and both apply. A call goes upstream only if its client is
//! under its cap and the BFF as a whole is under its budget; a client can
//! spend at most the smaller of its cap and what is left of the budget.
//!
//! The in-process table is bounded ([`MAX_TRACKED_CLIENTS`]): when it is
//! full, the clients that spent least are forgotten (they start again from
//! zero); those near their caps, the ones the cap is for, are kept.

use std::collections::HashMap;
use std::time::Duration;

use conferbot::timestamp::{month_of_ms, next_month_start_ms};

use crate::client::ClientId;

/// Clients counted at most in one process.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// The month of `unix_secs`, `YYYY-MM` (UTC).
pub fn month_of(unix_secs: i64) -> String {
    month_of_ms(unix_secs.saturating_mul(1_000))
}

/// Time from `unix_secs` until the next month begins (UTC), at least 1 s.
pub fn until_next_month(unix_secs: i64) -> Duration {
    let now_ms = unix_secs.saturating_mul(1_000);
    let left_ms = next_month_start_ms(now_ms).map_or(0, |next| next.saturating_sub(now_ms));
    Duration::from_millis(u64::try_from(left_ms).unwrap_or(0).max(1_000))
}

/// A client over its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// The cap.
    pub cap: u64,
    /// Until the month turns.
    pub retry_after: Duration,
}

/// Calls per client this month, against a cap.
#[derive(Debug, Clone)]
pub struct MonthlySpend {
    cap: u64,
    month: String,
    counts: HashMap<ClientId, u64>,
}

impl MonthlySpend {
    /// At most `cap` calls per client per month.
    pub fn new(cap: u64) -> Self {
        Self {
            cap,
            month: String::new(),
            counts: HashMap::new(),
        }
    }

    /// Reserves one call for `client` at `unix_secs`, or says it is spent.
    pub fn reserve(&mut self, client: &ClientId, unix_secs: i64) -> Result<(), Spent> {
        let month = month_of(unix_secs);
        if month != self.month {
            self.month = month;
            self.counts.clear();
        }
        let used = self.counts.get(client).copied().unwrap_or(0);
        if used >= self.cap {
            return Err(Spent {
                cap: self.cap,
                retry_after: until_next_month(unix_secs),
            });
        }
        if used == 0 && self.counts.len() >= MAX_TRACKED_CLIENTS {
            self.forget_least();
        }
        self.counts.insert(client.clone(), used + 1);
        Ok(())
    }

    /// Gives back a reservation that took no turn.
    pub fn refund(&mut self, client: &ClientId) {
        if let Some(used) = self.counts.get_mut(client) {
            *used = used.saturating_sub(1);
        }
    }

    /// Calls `client` made (or holds reserved) this month.
    pub fn used(&self, client: &ClientId) -> u64 {
        self.counts.get(client).copied().unwrap_or(0)
    }

    /// Forgets the clients that spent least (all of them at the smallest count).
    fn forget_least(&mut self) {
        if let Some(least) = self.counts.values().copied().min() {
            self.counts.retain(|_, used| *used > least);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_31: i64 = 1_738_281_600; // 2025-01-31T00:00:00Z

    fn client(n: u32) -> ClientId {
        ClientId::user(&format!("u{n}")).unwrap()
    }

    #[test]
    fn caps_each_client_for_its_month() {
        let mut spend = MonthlySpend::new(2);
        assert_eq!(spend.reserve(&client(1), JAN_31), Ok(()));
        assert_eq!(spend.reserve(&client(1), JAN_31), Ok(()));
        let spent = spend.reserve(&client(1), JAN_31).unwrap_err();
        assert_eq!(spent.cap, 2);
        assert_eq!(spent.retry_after, Duration::from_secs(86_400));
        // Another client is not affected; a refund gives a call back.
        assert_eq!(spend.reserve(&client(2), JAN_31), Ok(()));
        spend.refund(&client(1));
        assert_eq!(spend.reserve(&client(1), JAN_31), Ok(()));
        // A new month starts from zero.
        assert_eq!(spend.reserve(&client(1), JAN_31 + 86_400), Ok(()));
        assert_eq!(spend.used(&client(1)), 1);
    }

    #[test]
    fn months_and_their_turns() {
        assert_eq!(month_of(JAN_31), "2025-01");
        assert_eq!(month_of(1_735_689_599), "2024-12");
        assert_eq!(until_next_month(1_735_689_599), Duration::from_secs(1));
    }

    #[test]
    fn a_full_table_forgets_the_least_spent() {
        let mut spend = MonthlySpend::new(10);
        for n in 0..MAX_TRACKED_CLIENTS as u32 {
            spend.reserve(&client(n), JAN_31).unwrap();
        }
        spend.reserve(&client(0), JAN_31).unwrap();
        spend.reserve(&client(u32::MAX), JAN_31).unwrap();
        assert_eq!(spend.used(&client(0)), 2, "the biggest spender is kept");
        assert_eq!(spend.used(&client(1)), 0, "the least are forgotten");
        assert!(spend.counts.len() <= 2);
    }
}
