//! The upstream's calendar and clock, as the quota book reads them: months
//! named `YYYY-MM` (the upstream's, UTC), when they start, and its HTTP
//! `Date` header. The book asks these several times a request, nearly always
//! of the same text, so each parse is kept for the last text seen
//! ([`kept_for`], one per thread).

use std::cell::Cell;
use std::thread::LocalKey;

/// The last text of `N` bytes parsed, with what it parsed to.
type Kept<const N: usize, T> = Cell<Option<([u8; N], T)>>;

/// `parse(text)`, or the value kept in `last` when `text` is the one kept
/// there; texts of another length are parsed every time.
fn kept_for<const N: usize, T: Copy>(
    last: &'static LocalKey<Kept<N, T>>,
    text: &str,
    parse: impl FnOnce(&str) -> T,
) -> T {
    let Ok(key) = <[u8; N]>::try_from(text.as_bytes()) else {
        return parse(text);
    };
    if let Some((kept, value)) = last.get() {
        if kept == key {
            return value;
        }
    }
    let value = parse(text);
    last.set(Some((key, value)));
    value
}

/// Unix seconds at the start of `month` (`YYYY-MM`), or of the month after
/// it when `after`.
pub(crate) fn month_start_secs(month: &str, after: bool) -> Option<i64> {
    let month = year_month(month)?;
    let (year, number) = if after { following(month)? } else { month };
    conferbot::timestamp::month_start_secs(year, number)
}

/// How long the month named `month` (`YYYY-MM`) lasts, in ms.
pub(crate) fn month_length_ms(month: &str) -> Option<u64> {
    let start = month_start_secs(month, false)?;
    let end = month_start_secs(month, true)?;
    u64::try_from(end.saturating_sub(start))
        .ok()?
        .checked_mul(1_000)
}

/// `YYYY-MM` → the month after it.
pub(crate) fn next_month(month: &str) -> Option<String> {
    let (year, number) = following(year_month(month)?)?;
    Some(format!("{year:04}-{number:02}"))
}

/// `YYYY-MM` as a year and a month number (1 to 12).
fn year_month(month: &str) -> Option<(i32, u8)> {
    thread_local! {
        static LAST: Kept<7, Option<(i32, u8)>> = const { Cell::new(None) };
    }
    kept_for(&LAST, month, |month| {
        let (year, number) = month.split_once('-')?;
        let (year, number): (i32, u8) = (year.parse().ok()?, number.parse().ok()?);
        (1..=12).contains(&number).then_some((year, number))
    })
}

/// The month after `(year, number)`.
fn following((year, number): (i32, u8)) -> Option<(i32, u8)> {
    if number == 12 {
        Some((year.checked_add(1)?, 1))
    } else {
        Some((year, number + 1))
    }
}

/// The upstream's clock minus ours, in ms, from its `Date` header read at
/// `now` (what `QuotaBook::learn_clock` sets), when it is a date.
pub fn clock_offset(date: &str, now: u64) -> Option<i64> {
    parse_http_date_ms(date).map(|upstream| offset_of(upstream, now))
}

/// The upstream's clock (`upstream_ms`, Unix ms) minus ours (`now`).
pub(crate) fn offset_of(upstream_ms: i64, now: u64) -> i64 {
    upstream_ms.saturating_sub(i64::try_from(now).unwrap_or(i64::MAX))
}

/// An HTTP `Date` (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix ms. Every
/// answer has one, and it changes once a second.
fn parse_http_date_ms(raw: &str) -> Option<i64> {
    const LEN: usize = "Sun, 06 Nov 1994 08:49:37 GMT".len();
    thread_local! {
        static LAST: Kept<LEN, Option<i64>> = const { Cell::new(None) };
    }
    kept_for(&LAST, raw, |raw| {
        let at = httpdate::parse_http_date(raw.trim()).ok()?;
        let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
        i64::try_from(since.as_millis()).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_month_is_only_reused_for_the_same_text() {
        let january = 1_735_689_600; // 2025-01-01T00:00:00Z
        let february = 1_738_368_000; // 2025-02-01T00:00:00Z
        let march = 1_740_787_200; // 2025-03-01T00:00:00Z
        for (month, after, secs) in [
            ("2025-01", true, Some(february)),
            ("2025-01", true, Some(february)),
            ("2025-01", false, Some(january)),
            ("2025-02", true, Some(march)),
            ("2025-13", true, None),
            ("2025-13", true, None),
            ("2025-1", true, Some(february)),
            ("2025-01", true, Some(february)),
        ] {
            assert_eq!(month_start_secs(month, after), secs, "{month} {after}");
        }
    }

    #[test]
    fn a_kept_date_is_only_reused_for_the_same_text() {
        let now = 1_736_942_400_000; // 2025-01-15T12:00:00Z
        for (date, offset) in [
            ("Wed, 15 Jan 2025 12:00:10 GMT", Some(10_000)),
            ("Wed, 15 Jan 2025 12:00:10 GMT", Some(10_000)),
            ("Wed, 15 Jan 2025 11:59:59 GMT", Some(-1_000)),
            ("Wed, 15 Jan 2025 99:59:59 GMT", None),
            ("Wed, 15 Jan 2025 99:59:59 GMT", None),
            (" Wed, 15 Jan 2025 12:00:10 GMT", Some(10_000)),
            ("yesterday", None),
            ("Wed, 15 Jan 2025 12:00:10 GMT", Some(10_000)),
        ] {
            assert_eq!(clock_offset(date, now), offset, "{date:?}");
        }
    }
}
