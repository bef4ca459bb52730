//! Wall-clock time and months (`YYYY-MM`) for usage counting. Formatting
//! and parsing of instants are the core's (`conferbot::timestamp`).

use std::time::{SystemTime, UNIX_EPOCH};

use conferbot::timestamp::{format_iso8601_ms, parse_iso8601_secs};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_ms(ms: i64) -> String {
    format_iso8601_ms(ms)
}

/// The month of `ms`, `YYYY-MM`, as `GET /usage` names it.
pub fn month_of(ms: i64) -> String {
    let iso = iso_ms(ms);
    iso.get(..7).unwrap_or(&iso).to_owned()
}

/// Milliseconds from `ms` to the first instant of the next month (at least 0).
pub fn ms_until_next_month(ms: i64) -> i64 {
    let month = month_of(ms);
    let (year, month) = month.split_once('-').unwrap_or_default();
    let (year, month): (i64, i64) = (year.parse().unwrap_or(1970), month.parse().unwrap_or(1));
    let (year, month) = if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let next = parse_iso8601_secs(&format!("{year:04}-{month:02}-01T00:00:00Z")).unwrap_or(0);
    (next * 1_000 - ms).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn months() {
        // The guide's example instant.
        assert_eq!(iso_ms(1_725_186_600_000), "2024-09-01T10:30:00.000Z");
        assert_eq!(month_of(1_725_186_600_000), "2024-09");
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
