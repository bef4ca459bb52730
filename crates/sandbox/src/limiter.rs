//! The per-key sliding-window limiter (`60/60s` upstream).
//!
//! A true sliding window: each key keeps the instants of the requests it was
//! admitted in the last window, so a burst at the end of one minute and one at
//! the start of the next cannot add up to twice the limit, as they could with
//! a fixed window. Memory per key is bounded by the limit.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use conferbot::RateSpec;

/// Sliding windows, one per API key.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    rate: RateSpec,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl SlidingWindow {
    /// Windows that admit `rate.max` requests per `rate.window` and key.
    pub fn new(rate: RateSpec) -> Self {
        Self {
            rate,
            hits: HashMap::new(),
        }
    }

    /// The configured rate.
    pub fn rate(&self) -> RateSpec {
        self.rate
    }

    /// Admits a request of `key` at `now`, or says how long until the oldest
    /// request in the window leaves it (when one more would be admitted).
    pub fn admit(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        let window = self.rate.window;
        let hits = self.hits.entry(key.to_owned()).or_default();
        while hits
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(*oldest) >= window)
        {
            hits.pop_front();
        }
        if hits.len() < self.rate.max as usize {
            hits.push_back(now);
            return Ok(());
        }
        let oldest = hits.front().copied().unwrap_or(now);
        Err(window.saturating_sub(now.saturating_duration_since(oldest)))
    }

    /// Forgets every request.
    pub fn clear(&mut self) {
        self.hits.clear();
    }
}

/// `Retry-After` in whole seconds: rounded up, and at least 1 so that a client
/// that honours it never retries straight into the same refusal.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The 429 `message`: the guide's exact words for the default rate
/// ("You exceeded 60 requests in 1 minute."), the same sentence for others.
pub fn exceeded_message(rate: RateSpec) -> String {
    let noun = if rate.max == 1 { "request" } else { "requests" };
    format!(
        "You exceeded {} {noun} in {}.",
        rate.max,
        describe_window(rate.window)
    )
}

/// `60s` → "1 minute", `2s` → "2 seconds", `1500ms` → "1500 milliseconds".
fn describe_window(window: Duration) -> String {
    let ms = window.as_millis();
    let (n, unit) = if ms % 3_600_000 == 0 {
        (ms / 3_600_000, "hour")
    } else if ms % 60_000 == 0 {
        (ms / 60_000, "minute")
    } else if ms % 1_000 == 0 {
        (ms / 1_000, "second")
    } else {
        (ms, "millisecond")
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(raw: &str) -> RateSpec {
        raw.parse().unwrap()
    }

    #[test]
    fn slides_instead_of_resetting() {
        let mut limiter = SlidingWindow::new(rate("3/10s"));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(limiter.admit("k", t0 + Duration::from_secs(i)).is_ok());
        }
        // Full: the oldest (t0) leaves at t0+10s.
        let wait = limiter.admit("k", t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        assert!(limiter.admit("other", t0).is_ok());
        assert!(limiter.admit("k", t0 + Duration::from_secs(10)).is_ok());
        // Requests at t0+1 and t0+2 are still inside the window.
        assert!(limiter.admit("k", t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn refused_requests_do_not_extend_the_wait() {
        let mut limiter = SlidingWindow::new(rate("1/2s"));
        let t0 = Instant::now();
        assert!(limiter.admit("k", t0).is_ok());
        for _ in 0..5 {
            assert!(limiter.admit("k", t0 + Duration::from_millis(500)).is_err());
        }
        assert!(limiter.admit("k", t0 + Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }

    #[test]
    fn messages() {
        assert_eq!(
            exceeded_message(RateSpec::UPSTREAM),
            "You exceeded 60 requests in 1 minute."
        );
        assert_eq!(
            exceeded_message(rate("20/2s")),
            "You exceeded 20 requests in 2 seconds."
        );
        assert_eq!(
            exceeded_message(rate("1/1s")),
            "You exceeded 1 request in 1 second."
        );
        assert_eq!(
            exceeded_message(rate("5/250ms")),
            "You exceeded 5 requests in 250 milliseconds."
        );
        assert_eq!(
            exceeded_message(rate("100/2h")),
            "You exceeded 100 requests in 2 hours."
        );
    }
}
