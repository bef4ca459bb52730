//! Timestamps on the wire: ISO 8601 (`2024-09-01T10:30:00.000Z`) in bodies,
//! and `x-webhook-timestamp`, which may be Unix seconds or ISO 8601.
//!
//! On the `time` crate. For the servers: the BFF, the sandbox and the policy
//! (which also builds for wasm32) stamp and check deliveries; the wasm client
//! never reads a date, so none of this is linked into its module (measured
//! with `cargo xtask dist`: 85,051 B with the module, 85,021 B without it;
//! 9 B of gzip).

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form of the guide's examples.
const ISO_MS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The date and time of an ISO 8601 timestamp, before its offset: `T`, `t`
/// or a space between them, and an optional fraction of a second.
const DATE_TIME: &[BorrowedFormatItem<'_>] = format_description!(
    version = 2,
    "[year]-[month]-[day][first [T][t][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
);

/// The offset: `Z` (any case), `±HH:MM` or `±HHMM`.
const OFFSET: &[BorrowedFormatItem<'_>] = format_description!(
    version = 2,
    "[first [[offset_hour sign:mandatory]:[offset_minute]][[offset_hour sign:mandatory][offset_minute]]]"
);

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso8601_ms(unix_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(ISO_MS).ok())
        .unwrap_or_default()
}

/// Parses `x-webhook-timestamp` into Unix seconds: either decimal Unix
/// seconds (`1735689600`, also with a fraction or in milliseconds when
/// 13 digits long) or ISO 8601 with a `Z` or `±HH:MM` offset.
pub fn parse_webhook_timestamp(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let whole = raw.split('.').next()?;
        let n: i64 = whole.parse().ok()?;
        // 13 digits is milliseconds; seconds stay 10 digits until the year 2286.
        return Some(if whole.len() >= 13 { n / 1_000 } else { n });
    }
    parse_iso8601_secs(raw)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` into Unix seconds.
pub fn parse_iso8601_secs(raw: &str) -> Option<i64> {
    // The date and time are the first 19 characters, the fraction and the
    // offset what follows (the offset starts at `Z`, `+` or `-`).
    let split = raw
        .get(19..)?
        .find(['Z', 'z', '+', '-'])
        .map(|at| at + 19)?;
    let (date_time, offset) = (raw.get(..split)?, raw.get(split..)?);
    let local = PrimitiveDateTime::parse(date_time, DATE_TIME).ok()?;
    let offset = match offset {
        "Z" | "z" => UtcOffset::UTC,
        _ => UtcOffset::parse(offset, OFFSET).ok()?,
    };
    Some(local.assume_offset(offset).unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_guide() {
        assert_eq!(
            format_iso8601_ms(1_725_186_600_000),
            "2024-09-01T10:30:00.000Z"
        );
        assert_eq!(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_iso8601_ms(951_782_400_123),
            "2000-02-29T00:00:00.123Z"
        );
    }

    #[test]
    fn parses_both_timestamp_styles() {
        assert_eq!(parse_webhook_timestamp("1725186600"), Some(1_725_186_600));
        assert_eq!(
            parse_webhook_timestamp("1725186600.25"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("1725186600123"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("2024-09-01T10:30:00.000Z"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("2024-09-01T10:30:00Z"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("2024-09-01T12:30:00+02:00"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("2024-09-01T05:30:00-0500"),
            Some(1_725_186_600)
        );
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "abc",
            "2024-09-01",
            "2024-13-01T00:00:00Z",
            "2024-09-01T10:30:00",
            "2024-09-01T10:30:00.Z",
            "-5",
        ] {
            assert_eq!(parse_webhook_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_across_centuries() {
        for ms in [-86_400_000_i64, 0, 1_700_000_000_000, 4_102_444_800_000] {
            let text = format_iso8601_ms(ms);
            assert_eq!(
                parse_iso8601_secs(&text),
                Some(ms.div_euclid(1_000)),
                "{text}"
            );
        }
    }
}
