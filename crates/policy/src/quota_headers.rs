//! The quota as data on every answer: what the BFF knows of the per-minute
//! window and of the month, in the headers `conferbot::protocol::bff` names
//! (`x-quota-minute-{limit,remaining,reset}`,
//! `x-quota-month-{limit,used,remaining,reset}`, `x-quota-queued-ms`), so
//! that pages, errors and the usage widget show it without spending a call.
//!
//! The month's headers are absent until a `getUsage` answer taught the BFF
//! the plan; `unlimited` stands for an unlimited plan's limit and remaining.
//! The reset is said on the upstream's clock, whose calendar names the
//! months (`2025-02-01T00:00:00.000Z`).

use std::cell::RefCell;
use std::ops::Range;

use conferbot::protocol::bff::QUOTA_HEADERS;
use conferbot::timestamp::format_iso8601_ms;
use conferbot::Limit;

use crate::quota::MonthView;

/// The per-minute window as known at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteView {
    /// Calls the window allows (`60`).
    pub limit: u32,
    /// Calls it would admit now.
    pub remaining: u32,
    /// Milliseconds until it has room again (0 when it has now).
    pub reset_ms: u64,
}

/// Everything the quota headers of one answer say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaFacts {
    /// The per-minute window.
    pub minute: MinuteView,
    /// The month, once learned.
    pub month: Option<MonthView>,
    /// How long this request waited in the queue for the rate window, when
    /// it waited.
    pub queued_ms: Option<u64>,
}

/// Room for the usual text: seven numbers of up to 20 digits and the ISO
/// reset (longer texts, a date past year 9999, grow the string).
const TEXT_CAPACITY: usize = 8 * 20 + 24;

/// The quota headers of one answer, every value written into one text.
///
/// Why one text: a server that answers thousands of requests a second
/// turns it into one shared buffer and each value into a slice of it, one
/// allocation per answer where a `String` per header cost eight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaHeaders {
    text: String,
    /// For each header written, its place in [`QUOTA_HEADERS`] (the order
    /// they are written in, so that a server can hold its own typed names,
    /// built once: the BFF's `HeaderName`s) and
    /// where its value ends in `text` (each starts where the last ended).
    ends: [(u8, u16); QUOTA_HEADERS.len()],
    count: usize,
}

impl QuotaHeaders {
    /// The headers for `facts`: the minute always, the month once learned,
    /// the queue wait when the request waited.
    pub fn of(facts: &QuotaFacts) -> Self {
        let mut headers = Self {
            text: String::with_capacity(TEXT_CAPACITY),
            ends: [(0, 0); QUOTA_HEADERS.len()],
            count: 0,
        };
        // Each header by its place in QUOTA_HEADERS (checked by
        // `every_value_is_its_own_slice_of_the_one_text`).
        let minute = facts.minute;
        headers.number(0, u64::from(minute.limit));
        headers.number(1, u64::from(minute.remaining));
        headers.number(2, minute.reset_ms.div_ceil(1_000));
        if let Some(month) = &facts.month {
            headers.limit(3, month.limit);
            headers.number(4, month.used);
            headers.limit(5, month.remaining());
            let reset = month.resets_at_upstream_ms();
            with_reset_text(reset, |text| headers.text.push_str(text));
            headers.end(6);
        }
        if let Some(ms) = facts.queued_ms.filter(|ms| *ms > 0) {
            headers.number(7, ms);
        }
        headers
    }

    /// Each header as its place in [`QUOTA_HEADERS`] and where its
    /// value lies in [`QuotaHeaders::text`].
    pub fn indexed(&self) -> impl Iterator<Item = (usize, Range<usize>)> {
        fields(self.ends, self.count)
    }

    /// The text, and each header as in [`QuotaHeaders::indexed`]: for a
    /// server that keeps the text as the values' one buffer.
    pub fn into_parts(self) -> (String, impl Iterator<Item = (usize, Range<usize>)>) {
        (self.text, fields(self.ends, self.count))
    }

    /// Each header as name and value.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.indexed().map(|(name, range)| {
            (
                QUOTA_HEADERS.get(name).copied().unwrap_or_default(),
                self.text.get(range).unwrap_or_default(),
            )
        })
    }

    /// Every value, one after the other (see [`QuotaHeaders::indexed`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    fn number(&mut self, name: u8, n: u64) {
        self.text.push_str(itoa::Buffer::new().format(n));
        self.end(name);
    }

    fn limit(&mut self, name: u8, limit: Limit) {
        match limit {
            Limit::Calls(n) => self.number(name, n),
            Limit::Unlimited => {
                self.text.push_str("unlimited");
                self.end(name);
            }
        }
    }

    /// Closes the value just written. The text stays far below `u16::MAX`
    /// (eight values of at most 20 digits, or an ISO date); each header is
    /// written once, so eight at most.
    fn end(&mut self, name: u8) {
        let end = u16::try_from(self.text.len()).unwrap_or(u16::MAX);
        if let Some(slot) = self.ends.get_mut(self.count) {
            *slot = (name, end);
            self.count += 1;
        }
    }
}

/// The first `count` of `ends` as places in [`QUOTA_HEADERS`] and
/// ranges of the text.
fn fields(
    ends: [(u8, u16); QUOTA_HEADERS.len()],
    count: usize,
) -> impl Iterator<Item = (usize, Range<usize>)> {
    let mut start = 0;
    ends.into_iter().take(count).map(move |(name, end)| {
        let range = start..usize::from(end);
        start = usize::from(end);
        (usize::from(name), range)
    })
}

/// The headers for `facts`, as name/value pairs.
pub fn quota_headers(facts: &QuotaFacts) -> Vec<(&'static str, String)> {
    QuotaHeaders::of(facts)
        .iter()
        .map(|(name, value)| (name, value.to_owned()))
        .collect()
}

/// Gives `format_iso8601_ms(ms)` to `with`. The month's reset is the same
/// instant on nearly every answer of a month, so the last text written is
/// kept (one per thread) instead of formatted again: the calendar arithmetic
/// was a fifth of the headers' cost.
fn with_reset_text(ms: i64, with: impl FnOnce(&str)) {
    thread_local! {
        static LAST: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return with(&format_iso8601_ms(ms));
        };
        match &*last {
            Some((at, text)) if *at == ms => with(text),
            _ => {
                let text = format_iso8601_ms(ms);
                with(&text);
                *last = Some((ms, text));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_from_what_is_known() {
        let facts = QuotaFacts {
            minute: MinuteView {
                limit: 60,
                remaining: 0,
                reset_ms: 1_200,
            },
            month: Some(MonthView {
                month: "2025-01".into(),
                limit: Limit::Calls(10_000),
                used: 1_430,
                resets_at_ms: 1_738_367_990_000,
                clock_offset_ms: 10_000,
            }),
            queued_ms: Some(850),
        };
        assert_eq!(
            quota_headers(&facts),
            vec![
                ("x-quota-minute-limit", "60".to_owned()),
                ("x-quota-minute-remaining", "0".to_owned()),
                ("x-quota-minute-reset", "2".to_owned()),
                ("x-quota-month-limit", "10000".to_owned()),
                ("x-quota-month-used", "1430".to_owned()),
                ("x-quota-month-remaining", "8570".to_owned()),
                ("x-quota-month-reset", "2025-02-01T00:00:00.000Z".to_owned()),
                ("x-quota-queued-ms", "850".to_owned()),
            ]
        );
    }

    fn reset_text(ms: i64) -> String {
        let mut kept = String::new();
        with_reset_text(ms, |text| kept.push_str(text));
        kept
    }

    #[test]
    fn every_value_is_its_own_slice_of_the_one_text() {
        let facts = QuotaFacts {
            minute: MinuteView {
                limit: u32::MAX,
                remaining: 7,
                reset_ms: u64::MAX,
            },
            month: Some(MonthView {
                month: "2025-01".into(),
                limit: Limit::Calls(u64::MAX),
                used: 0,
                resets_at_ms: 1_738_367_990_000,
                clock_offset_ms: 10_000,
            }),
            queued_ms: Some(u64::MAX),
        };
        let headers = QuotaHeaders::of(&facts);
        let names: Vec<&str> = headers.iter().map(|(name, _)| name).collect();
        assert_eq!(names, QUOTA_HEADERS);
        let mut joined = String::new();
        for (name, range) in headers.indexed() {
            let value = &headers.text()[range];
            assert_eq!(headers.iter().nth(name).map(|(_, v)| v), Some(value));
            joined.push_str(value);
        }
        assert_eq!(joined, headers.text());
        assert_eq!(
            headers.iter().map(|(_, v)| v).collect::<Vec<_>>(),
            [
                "4294967295",
                "7",
                "18446744073709552",
                "18446744073709551615",
                "0",
                "18446744073709551615",
                "2025-02-01T00:00:00.000Z",
                "18446744073709551615",
            ]
        );
        assert!(headers.text().len() <= TEXT_CAPACITY);
    }

    #[test]
    fn the_kept_reset_text_is_only_reused_for_the_same_instant() {
        let february = 1_738_368_000_000; // 2025-02-01T00:00:00.000Z
        let march = 1_740_787_200_000; // 2025-03-01T00:00:00.000Z
        for (ms, text) in [
            (february, "2025-02-01T00:00:00.000Z"),
            (february, "2025-02-01T00:00:00.000Z"),
            (march, "2025-03-01T00:00:00.000Z"),
            (february + 1, "2025-02-01T00:00:00.001Z"),
        ] {
            assert_eq!(reset_text(ms), text);
            assert_eq!(reset_text(ms), format_iso8601_ms(ms));
        }
    }

    #[test]
    fn the_month_is_absent_until_learned_and_unlimited_is_said() {
        let minute = MinuteView {
            limit: 60,
            remaining: 60,
            reset_ms: 0,
        };
        let unknown = QuotaFacts {
            minute,
            month: None,
            queued_ms: Some(0),
        };
        assert_eq!(quota_headers(&unknown).len(), 3);
        let enterprise = QuotaFacts {
            minute,
            month: Some(MonthView {
                month: "2025-01".into(),
                limit: Limit::Unlimited,
                used: 5,
                resets_at_ms: 0,
                clock_offset_ms: 0,
            }),
            queued_ms: None,
        };
        let pairs = quota_headers(&enterprise);
        assert!(pairs.contains(&("x-quota-month-limit", "unlimited".to_owned())));
        assert!(pairs.contains(&("x-quota-month-remaining", "unlimited".to_owned())));
    }
}
