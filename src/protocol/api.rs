//! Facts of the upstream External API, as its Getting Started guide and API
//! reference state them (`shared/reference/`).

use std::time::Duration;

use crate::rate::RateSpec;

/// The real API's base URL (direct mode's default).
pub const DEFAULT_BASE_URL: &str = "https://api-v2.conferbot.com/api/v1";
/// Where the API lives on its host.
pub const API_PREFIX: &str = "/api/v1";
/// Where the external endpoints live under the base URL.
pub const EXTERNAL_PREFIX: &str = "/external/v1";
/// The header that carries the API key (direct mode, and the BFF upstream).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Requests a key may make per minute ("All endpoints are limited to 60
/// requests per minute per API key"); as a rate, [`RateSpec::UPSTREAM`].
pub const REQUESTS_PER_MINUTE: u32 = 60;
/// The `Retry-After` the upstream sends with a per-minute `429`.
pub const RATE_LIMIT_RETRY_AFTER_SECS: u64 = 60;

/// `error` of a `401`: the key is missing or wrong.
pub const INVALID_KEY_ERROR: &str = "Invalid or missing API key";
/// `error` of a `429`, per-minute or monthly.
pub const RATE_LIMIT_ERROR: &str = "Rate limit exceeded";
/// `error` of a `429` when the month's quota is spent. The reference says only
/// that `429` means "rate limit exceeded (per-minute or monthly)"; this wording,
/// with a `Retry-After` reaching to the month's turn, is the project's model of
/// the monthly refusal (the sandbox answers it; the BFF recognises it).
pub const MONTHLY_LIMIT_ERROR: &str = "Monthly API limit reached";
/// `error` of a `404` for a chatbot that does not exist or is not the workspace's.
pub const CHATBOT_NOT_FOUND_ERROR: &str = "Chatbot not found";
/// `error` of a `404` for an unknown webhook (modelled on the chatbot wording).
pub const WEBHOOK_NOT_FOUND_ERROR: &str = "Webhook not found";

/// The `message` of a per-minute `429`: the reference's exact words for the
/// documented rate ("You exceeded 60 requests in 1 minute."), the same
/// sentence for other rates (the sandbox can be run faster).
pub fn rate_limit_message(rate: RateSpec) -> String {
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

/// `Retry-After` in whole seconds: rounded up, and at least 1, so that a
/// client that honours it never retries straight into the same refusal
/// (`Retry-After: 0` would invite a retry storm). The longest waits say
/// `u64::MAX` seconds rather than overflow.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait
        .as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(raw: &str) -> RateSpec {
        raw.parse().unwrap()
    }

    #[test]
    fn limit_messages_use_the_references_words() {
        assert_eq!(
            rate_limit_message(RateSpec::UPSTREAM),
            "You exceeded 60 requests in 1 minute."
        );
        assert_eq!(
            rate_limit_message(rate("20/2s")),
            "You exceeded 20 requests in 2 seconds."
        );
        assert_eq!(
            rate_limit_message(rate("1/1s")),
            "You exceeded 1 request in 1 second."
        );
        assert_eq!(
            rate_limit_message(rate("5/250ms")),
            "You exceeded 5 requests in 250 milliseconds."
        );
        assert_eq!(
            rate_limit_message(rate("100/2h")),
            "You exceeded 100 requests in 2 hours."
        );
    }

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }

    /// Found by `cargo xtask fuzz` (target `timestamp_rate`): the longest
    /// waits overflowed the rounding up (a panic with overflow checks, and
    /// `Retry-After: 1` without them).
    #[test]
    fn retry_after_of_the_longest_wait_saturates() {
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
        assert_eq!(retry_after_secs(Duration::new(u64::MAX, 1)), u64::MAX);
        assert_eq!(retry_after_secs(Duration::from_secs(u64::MAX)), u64::MAX);
    }
}
