//! The retry policy, pure: given what failed, retry or not, and after how long.
//!
//! - `429`: retried for every method (the server refused before acting),
//!   after `Retry-After` when it is within the cap; a longer demand gives up at
//!   once with `retry_after` set, instead of hammering or hanging.
//! - Network errors, timeouts and 5xx: retried for GETs only, with exponential
//!   backoff and full jitter. A POST whose outcome is unknown is never repeated.
//! - Everything else (bad input, 4xx, abort, undecodable body): never.

use crate::endpoint::Method;
use crate::error::{Error, ErrorKind};

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this many milliseconds.
    RetryAfterMs(u64),
    /// Report the error.
    GiveUp,
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2).
    pub max_retries: u32,
    /// First backoff step, in ms (default 500).
    pub base_delay_ms: u64,
    /// Longest backoff, in ms (default 8,000).
    pub max_delay_ms: u64,
    /// Longest `Retry-After` honoured, in ms (default 60,000).
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            max_retry_after_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// The same policy with another retry count.
    pub fn with_max_retries(self, max_retries: u32) -> Self {
        Self {
            max_retries,
            ..self
        }
    }

    /// Decides after attempt number `retries_done + 1` failed with `error`.
    /// `random_unit` in `[0, 1)` draws the jitter; passing it in keeps this pure.
    pub fn decide(
        &self,
        retries_done: u32,
        method: Method,
        error: &Error,
        random_unit: f64,
    ) -> RetryDecision {
        if retries_done >= self.max_retries {
            return RetryDecision::GiveUp;
        }
        match error.kind {
            ErrorKind::RateLimited => match error.retry_after {
                Some(secs) => {
                    let wait = secs.saturating_mul(1_000);
                    if wait <= self.max_retry_after_ms {
                        RetryDecision::RetryAfterMs(wait)
                    } else {
                        RetryDecision::GiveUp
                    }
                }
                None => RetryDecision::RetryAfterMs(self.backoff_ms(retries_done, random_unit)),
            },
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Server
                if method == Method::Get =>
            {
                RetryDecision::RetryAfterMs(self.backoff_ms(retries_done, random_unit))
            }
            _ => RetryDecision::GiveUp,
        }
    }

    /// Full jitter: uniform in `[0, min(max, base·2^n)]`.
    pub fn backoff_ms(&self, retries_done: u32, random_unit: f64) -> u64 {
        let ceiling = self
            .base_delay_ms
            .saturating_mul(1u64 << retries_done.min(30))
            .min(self.max_delay_ms);
        let unit = if random_unit.is_finite() {
            random_unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Ceilings above 2^53 round up as floats: the cap holds anyway.
        ((ceiling as f64 * unit).round() as u64).min(ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind, retry_after: Option<u64>) -> Error {
        Error {
            retry_after,
            ..Error::new(kind, "x")
        }
    }

    #[test]
    fn honours_retry_after_within_the_cap_for_every_method() {
        let p = RetryPolicy::default();
        for method in [Method::Get, Method::Post, Method::Delete] {
            assert_eq!(
                p.decide(0, method, &err(ErrorKind::RateLimited, Some(3)), 0.5),
                RetryDecision::RetryAfterMs(3_000)
            );
        }
        assert_eq!(
            p.decide(0, Method::Get, &err(ErrorKind::RateLimited, Some(61)), 0.5),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(0, Method::Get, &err(ErrorKind::RateLimited, None), 1.0),
            RetryDecision::RetryAfterMs(500)
        );
    }

    #[test]
    fn retries_transient_failures_of_gets_only() {
        let p = RetryPolicy::default();
        for kind in [ErrorKind::Network, ErrorKind::Timeout, ErrorKind::Server] {
            assert!(matches!(
                p.decide(0, Method::Get, &err(kind, None), 0.5),
                RetryDecision::RetryAfterMs(_)
            ));
            assert_eq!(
                p.decide(0, Method::Post, &err(kind, None), 0.5),
                RetryDecision::GiveUp,
                "{kind}"
            );
            assert_eq!(
                p.decide(0, Method::Delete, &err(kind, None), 0.5),
                RetryDecision::GiveUp,
                "{kind}"
            );
        }
    }

    #[test]
    fn never_retries_caller_errors() {
        let p = RetryPolicy::default();
        for kind in [
            ErrorKind::InvalidRequest,
            ErrorKind::BadRequest,
            ErrorKind::Unauthorized,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Aborted,
            ErrorKind::Decode,
        ] {
            assert_eq!(
                p.decide(0, Method::Get, &err(kind, None), 0.5),
                RetryDecision::GiveUp,
                "{kind}"
            );
        }
    }

    #[test]
    fn stops_after_max_retries_default_two() {
        let p = RetryPolicy::default();
        let e = err(ErrorKind::Server, None);
        assert!(matches!(
            p.decide(1, Method::Get, &e, 0.5),
            RetryDecision::RetryAfterMs(_)
        ));
        assert_eq!(p.decide(2, Method::Get, &e, 0.5), RetryDecision::GiveUp);
        assert_eq!(
            p.with_max_retries(0).decide(0, Method::Get, &e, 0.5),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ms(0, 1.0), 500);
        assert_eq!(p.backoff_ms(1, 1.0), 1_000);
        assert_eq!(p.backoff_ms(3, 1.0), 4_000);
        assert_eq!(p.backoff_ms(10, 1.0), 8_000);
        assert_eq!(p.backoff_ms(40, 1.0), 8_000);
        assert_eq!(p.backoff_ms(3, 0.0), 0);
        assert_eq!(p.backoff_ms(3, 0.25), 1_000);
        assert_eq!(p.backoff_ms(3, f64::NAN), 0);
    }

    /// Found by `cargo xtask fuzz` (target `timestamp_rate`): a ceiling
    /// that a float cannot hold exactly rounded above the cap.
    #[test]
    fn backoff_never_passes_a_ceiling_a_float_cannot_hold() {
        let huge = (1u64 << 53) + 3;
        let p = RetryPolicy {
            base_delay_ms: huge,
            max_delay_ms: huge,
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff_ms(0, 1.0), huge);
        assert!(p.backoff_ms(5, 0.999_999) <= huge);
    }
}
