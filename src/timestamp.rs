//! Timestamps on the wire: ISO 8601 (`2024-09-01T10:30:00.000Z`) in bodies,
//! and `x-webhook-timestamp`, which may be Unix seconds or ISO 8601.
//!
//! Written here rather than pulling a date crate into the wasm module: the
//! API only needs UTC instants at millisecond precision.

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso8601_ms(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let secs = ms_of_day / 1_000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1_000
    )
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
    let bytes = raw.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = raw.get(from..from + len)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let sep_ok = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    if !(sep_ok(4, b"-")
        && sep_ok(7, b"-")
        && sep_ok(10, b"Tt ")
        && sep_ok(13, b":")
        && sep_ok(16, b":"))
    {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = raw.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = fraction.get(end..)?;
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hhmm = rest.get(1..)?.replace(':', "");
            if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = hhmm.get(0..2)?.parse().ok()?;
            let minutes: i64 = hhmm.get(2..4)?.parse().ok()?;
            sign * (hours * 3_600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - offset_secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
