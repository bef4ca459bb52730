//! Timestamps on the wire: ISO 8601 (`2024-09-01T10:30:00.000Z`) in bodies,
//! and `x-webhook-timestamp`, which may be Unix seconds or ISO 8601.
//!
//! On the `time` crate's calendar (dates, offsets, Unix time), read and
//! written by hand at fixed positions rather than through its format
//! descriptions: those bring a generic parser and formatter that were a
//! third of the npm server half's wasm budget (34 KB of `time` code in
//! `conferbot_server_bg.wasm`, measured with twiggy), for two fixed shapes.
//! For the servers: the BFF, the sandbox and the policy (which also builds
//! for wasm32) stamp and check deliveries and turn months; the wasm client
//! never reads a date, so none of this is linked into its module.

use std::fmt::Write;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form
/// of the guide's examples (years 0 to 9999; empty outside them).
pub fn format_iso8601_ms(unix_ms: i64) -> String {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000) else {
        return String::new();
    };
    if !(0..=9999).contains(&at.year()) {
        return String::new();
    }
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    );
    out
}
/// Unix seconds at 00:00 UTC on the first day of `month` (1 to 12) of
/// `year` (years 0 to 9999; `None` outside them): where a month of the
/// upstream's quota starts, computed without writing a timestamp to parse.
pub fn month_start_secs(year: i32, month: u8) -> Option<i64> {
    if !(0..=9999).contains(&year) {
        return None;
    }
    let month = Month::try_from(month).ok()?;
    let date = Date::from_calendar_date(year, month, 1).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// The month of `unix_ms`, `YYYY-MM` (UTC), as `GET /usage` names it
/// (empty outside years 0 to 9999).
pub fn month_of_ms(unix_ms: i64) -> String {
    let mut iso = format_iso8601_ms(unix_ms);
    iso.truncate(7);
    iso
}

/// Unix ms at 00:00 UTC on the first day of the month after the one
/// `unix_ms` falls in: when that month's quota ends (`None` past 9999).
pub fn next_month_start_ms(unix_ms: i64) -> Option<i64> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok()?;
    let (year, month) = match at.month() {
        Month::December => (at.year().checked_add(1)?, 1),
        month => (at.year(), u8::from(month) + 1),
    };
    month_start_secs(year, month)?.checked_mul(1_000)
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

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` into Unix seconds
/// (`T`, `t` or a space between date and time; `z` too; a fraction of 1 to
/// 9 digits).
pub fn parse_iso8601_secs(raw: &str) -> Option<i64> {
    let bytes = raw.as_bytes();
    let separators = [(4, b"-"), (7, b"-"), (13, b":"), (16, b":")];
    if !separators
        .iter()
        .all(|(at, sep)| bytes.get(*at) == sep.first())
        || !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let year = i32::try_from(digits(raw, 0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(raw, 5, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(raw, 8, 2)?).ok()?;
    let [hour, minute, second] =
        [11, 14, 17].map(|at| digits(raw, at, 2).and_then(|n| u8::try_from(n).ok()));
    let time = Time::from_hms(hour?, minute?, second?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let mut rest = raw.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        rest = fraction.get(count..)?;
    }
    let offset = parse_offset(rest)?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

/// `Z` (any case), `±HH:MM` or `±HHMM`.
fn parse_offset(raw: &str) -> Option<UtcOffset> {
    if raw.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let sign: i8 = match raw.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let minutes_at = match raw.len() {
        6 if raw.as_bytes().get(3) == Some(&b':') => 4,
        5 => 3,
        _ => return None,
    };
    let hours = i8::try_from(digits(raw, 1, 2)?).ok()?;
    let minutes = i8::try_from(digits(raw, minutes_at, 2)?).ok()?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// The `len` ASCII digits of `raw` at `at`, as a number.
fn digits(raw: &str, at: usize, len: usize) -> Option<u32> {
    let text = raw.get(at..at.checked_add(len)?)?;
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_of_instants_and_their_ends() {
        // 2024-12-31T23:59:59.999Z, the last instant of a year.
        let last = 1_735_689_599_999;
        assert_eq!(month_of_ms(last), "2024-12");
        assert_eq!(month_of_ms(last + 1), "2025-01");
        assert_eq!(next_month_start_ms(last), Some(last + 1));
        assert_eq!(next_month_start_ms(last + 1), Some(1_738_368_000_000));
        // February of a leap year: 29 days.
        let feb_2024 = 1_706_745_600_000;
        assert_eq!(
            next_month_start_ms(feb_2024),
            Some(feb_2024 + 29 * 86_400_000)
        );
        assert_eq!(month_of_ms(-1), "1969-12");
        assert_eq!(next_month_start_ms(-1), Some(0));
        assert_eq!(month_of_ms(i64::MAX), "");
        assert_eq!(next_month_start_ms(i64::MAX), None);
    }

    #[test]
    fn month_starts_agree_with_the_parser() {
        for (year, month) in [
            (2024, 1),
            (2024, 2),
            (2024, 3),
            (2025, 12),
            (2000, 2),
            (1970, 1),
            (9999, 12),
        ] {
            let text = format!("{year:04}-{month:02}-01T00:00:00Z");
            assert_eq!(
                month_start_secs(year, month),
                parse_iso8601_secs(&text),
                "{text}"
            );
        }
        assert_eq!(month_start_secs(2024, 0), None);
        assert_eq!(month_start_secs(2024, 13), None);
        assert_eq!(month_start_secs(10_000, 1), None);
        assert_eq!(month_start_secs(-1, 1), None);
    }

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
        assert_eq!(
            parse_webhook_timestamp("2024-09-01 10:30:00.5z"),
            Some(1_725_186_600)
        );
        assert_eq!(
            parse_webhook_timestamp("2024-09-01t10:30:00.123456789+00:00"),
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
            "2024-09-01T10:30:00+2:00",
            "2024-09-01T10:30:00+02:0",
            "2024-09-01T24:30:00Z",
            "2024-09-01T10:30:00.1234567890Z",
            "2024-02-30T10:30:00Z",
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
