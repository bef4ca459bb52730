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
}
