//! Wall-clock time and months (`YYYY-MM`) for usage counting, and the
//! sandbox's own clock, which tests can move (`POST /sandbox/clock`) to turn
//! a month in seconds. Formatting and parsing of instants are the core's
//! (`conferbot::timestamp`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conferbot::timestamp::{format_iso8601_ms, next_month_start_ms};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The sandbox's clock: the wall clock moved by an offset. Everything the
/// sandbox dates (the month usage is counted in, the `Retry-After` to the
/// month's turn, the `Date` header of API answers, records and deliveries)
/// reads it.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// Milliseconds since the Unix epoch on this clock.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// How far it is moved from the wall clock.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves it to read `at_ms` now (and to run on from there).
    pub fn set_now(&self, at_ms: i64) {
        self.set_offset(at_ms.saturating_sub(now_ms()));
    }

    /// Moves it by `offset_ms` from the wall clock.
    pub fn set_offset(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }
}

/// `ms` since the epoch as an HTTP `Date` (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_ms(ms: i64) -> String {
    format_iso8601_ms(ms)
}

/// The month of `ms`, `YYYY-MM`, as `GET /usage` names it.
pub use conferbot::timestamp::month_of_ms as month_of;

/// Milliseconds from `ms` to the first instant of the next month (at least 0).
pub fn ms_until_next_month(ms: i64) -> i64 {
    next_month_start_ms(ms).map_or(0, |next| next.saturating_sub(ms).max(0))
}

#[cfg(test)]
mod tests {
    use conferbot::timestamp::parse_iso8601_secs;

    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn months() {
        // The guide's example instant.
        assert_eq!(iso_ms(1_725_186_600_000), "2024-09-01T10:30:00.000Z");
        assert_eq!(month_of(1_725_186_600_000), "2024-09");
    }

    #[test]
    fn the_sandbox_clock_moves_and_runs_on() {
        let clock = SandboxClock::default();
        assert!((clock.now_ms() - now_ms()).abs() < 1_000);
        let dec31 = parse_iso8601_secs("2024-12-31T23:59:50Z").unwrap() * 1_000;
        clock.set_now(dec31);
        assert!((clock.now_ms() - dec31).abs() < 1_000);
        assert_eq!(month_of(clock.now_ms()), "2024-12");
        assert!(ms_until_next_month(clock.now_ms()) <= 10_000);
        assert_eq!(http_date(dec31), "Tue, 31 Dec 2024 23:59:50 GMT");
        clock.set_offset(0);
        assert_eq!(clock.offset_ms(), 0);
    }

    #[test]
    fn next_month_boundaries() {
        let dec31 = parse_iso8601_secs("2024-12-31T00:00:00Z").unwrap() * 1_000;
        assert_eq!(ms_until_next_month(dec31), DAY_MS);
        let feb1 = parse_iso8601_secs("2024-02-01T00:00:00Z").unwrap() * 1_000;
        assert_eq!(ms_until_next_month(feb1), 29 * DAY_MS);
        assert_eq!(ms_until_next_month(feb1 + 5), 29 * DAY_MS - 5);
    }
}
