//! Timestamps, rates, durations and `Retry-After`: every parser of time the
//! servers and the client share, and the arithmetic on what they read.
//!
//! The input is tried as text in every syntax (a webhook timestamp, ISO 8601,
//! a `--rate`, a duration flag, a `Retry-After` value), and its bytes as
//! numbers (`arbitrary`). Checked:
//! - timestamps: the two readers agree (`parse_webhook_timestamp` reads ISO
//!   8601 exactly as `parse_iso8601_secs` does, Unix seconds as the number,
//!   13 digits and more as milliseconds); what is read writes back
//!   (`format_iso8601_ms`) and reads back to the same second; any
//!   millisecond time from 1970 to 9999 writes and reads back;
//! - rates and durations: what parses writes (`Display`, `format_duration`)
//!   as text that parses to the same value; a rate's limit message is sane;
//! - `Retry-After`: read as whole seconds; the BFF's `Retry-After` for any
//!   wait is at least 1 and the wait rounded up;
//! - the retry and reconnect policies' delays stay within their caps for any
//!   input (no overflow, no NaN surprises).

#![no_main]

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use conferbot::error::parse_retry_after;
use conferbot::protocol::api::{rate_limit_message, retry_after_secs};
use conferbot::rate::{format_duration, parse_duration};
use conferbot::reconnect::MAX_RECONNECT_MS;
use conferbot::timestamp::{format_iso8601_ms, parse_iso8601_secs, parse_webhook_timestamp};
use conferbot::{Error, ErrorKind, Method, RateSpec, Reconnect, RetryDecision, RetryPolicy};
use conferbot_policy::upstream_answer;
use libfuzzer_sys::fuzz_target;

/// 9999-12-31T23:59:59.999Z, the last millisecond ISO 8601's four-digit years write.
const LAST_MS: i64 = 253_402_300_799_999;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    timestamps(&text);
    rates(&text);
    retry_after_header(&text, data);
    let mut u = Unstructured::new(data);
    if let Ok(numbers) = Numbers::arbitrary(&mut u) {
        arithmetic(&numbers);
    }
});

fn timestamps(text: &str) {
    let read = parse_webhook_timestamp(text);
    let trimmed = text.trim();
    let numeric = !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !numeric {
        assert_eq!(read, parse_iso8601_secs(trimmed), "{text:?}");
    } else if let Some(whole) = trimmed
        .split('.')
        .next()
        .and_then(|w| w.parse::<i64>().ok())
    {
        let digits = trimmed.split('.').next().map_or(0, str::len);
        let expected = if digits >= 13 { whole / 1_000 } else { whole };
        assert_eq!(read, Some(expected), "{text:?}");
    }
    if let Some(secs) = read {
        if let Some(ms) = secs
            .checked_mul(1_000)
            .filter(|ms| (0..=LAST_MS).contains(ms))
        {
            let written = format_iso8601_ms(ms);
            assert_eq!(
                parse_iso8601_secs(&written),
                Some(secs),
                "{text:?} wrote {written}"
            );
            assert_eq!(parse_webhook_timestamp(&written), Some(secs));
        }
    }
}

fn rates(text: &str) {
    if let Ok(rate) = text.parse::<RateSpec>() {
        assert!(rate.max >= 1 && !rate.window.is_zero());
        let written = rate.to_string();
        assert_eq!(
            written.parse::<RateSpec>(),
            Ok(rate),
            "{text:?} wrote {written}"
        );
        let message = rate_limit_message(rate);
        assert!(message.starts_with("You exceeded ") && message.ends_with('.'));
    }
    if let Ok(duration) = parse_duration(text) {
        let written = format_duration(duration);
        assert_eq!(
            parse_duration(&written),
            Ok(duration),
            "{text:?} wrote {written}"
        );
    }
}

fn retry_after_header(text: &str, data: &[u8]) {
    let secs = parse_retry_after(text);
    assert_eq!(secs, text.trim().parse::<u64>().ok());
    assert_eq!(
        upstream_answer::retry_after(Some(data)),
        std::str::from_utf8(data).ok().and_then(parse_retry_after)
    );
    let err = Error::from_response(429, b"{}", Some(text));
    assert_eq!((err.kind, err.retry_after), (ErrorKind::RateLimited, secs));
}

#[derive(Debug, Arbitrary)]
struct Numbers {
    ms: i64,
    wait_secs: u64,
    wait_nanos: u32,
    retries_done: u32,
    random_unit: f64,
    retry_after: Option<u64>,
    policy: (u32, u64, u64, u64),
    retry_ms: u64,
    failures: u8,
}

fn arithmetic(n: &Numbers) {
    // Any millisecond writes (or writes nothing, out of range) without panicking.
    let written = format_iso8601_ms(n.ms);
    if (0..=LAST_MS).contains(&n.ms) {
        assert_eq!(
            parse_iso8601_secs(&written),
            Some(n.ms.div_euclid(1_000)),
            "{written}"
        );
    }

    let wait = Duration::new(n.wait_secs, n.wait_nanos % 1_000_000_000);
    let secs = retry_after_secs(wait);
    assert!(secs >= 1);
    assert!(
        u128::from(secs) * 1_000_000_000
            >= wait.as_nanos().min(u128::from(u64::MAX) * 1_000_000_000)
    );

    let (max_retries, base_delay_ms, max_delay_ms, max_retry_after_ms) = n.policy;
    let policy = RetryPolicy {
        max_retries,
        base_delay_ms,
        max_delay_ms,
        max_retry_after_ms,
    };
    let backoff = policy.backoff_ms(n.retries_done, n.random_unit);
    assert!(backoff <= max_delay_ms);
    let limited = Error {
        retry_after: n.retry_after,
        ..Error::new(ErrorKind::RateLimited, "x")
    };
    for method in [Method::Get, Method::Post, Method::Delete] {
        match policy.decide(n.retries_done, method, &limited, n.random_unit) {
            RetryDecision::RetryAfterMs(ms) => {
                assert!(n.retries_done < max_retries);
                assert!(ms <= max_retry_after_ms.max(max_delay_ms));
            }
            RetryDecision::GiveUp => {}
        }
    }

    let mut reconnect = Reconnect::default();
    reconnect.set_retry_ms(n.retry_ms);
    for _ in 0..n.failures {
        reconnect.failed(n.retry_after);
    }
    let delay = reconnect.delay_ms(n.random_unit);
    assert!(delay <= MAX_RECONNECT_MS, "{delay}");
}
