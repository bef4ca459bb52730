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

use conferbot::protocol::bff::{
    MINUTE_LIMIT_HEADER, MINUTE_REMAINING_HEADER, MINUTE_RESET_HEADER, MONTH_LIMIT_HEADER,
    MONTH_REMAINING_HEADER, MONTH_RESET_HEADER, MONTH_USED_HEADER, QUEUED_MS_HEADER,
};
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

/// The headers for `facts`, as name/value pairs.
pub fn quota_headers(facts: &QuotaFacts) -> Vec<(&'static str, String)> {
    let minute = facts.minute;
    let mut pairs = vec![
        (MINUTE_LIMIT_HEADER, minute.limit.to_string()),
        (MINUTE_REMAINING_HEADER, minute.remaining.to_string()),
        (
            MINUTE_RESET_HEADER,
            minute.reset_ms.div_ceil(1_000).to_string(),
        ),
    ];
    if let Some(month) = &facts.month {
        pairs.push((MONTH_LIMIT_HEADER, limit_text(month.limit)));
        pairs.push((MONTH_USED_HEADER, month.used.to_string()));
        pairs.push((MONTH_REMAINING_HEADER, limit_text(month.remaining())));
        let reset = month.resets_at_upstream_ms();
        pairs.push((MONTH_RESET_HEADER, reset_text(reset)));
    }
    if let Some(ms) = facts.queued_ms.filter(|ms| *ms > 0) {
        pairs.push((QUEUED_MS_HEADER, ms.to_string()));
    }
    pairs
}

/// `format_iso8601_ms(ms)`. The month's reset is the same instant on
/// nearly every answer of a month, so the last text written is kept (one per
/// thread) and copied instead of formatted again: the calendar arithmetic
/// was a fifth of the headers' cost.
fn reset_text(ms: i64) -> String {
    thread_local! {
        static LAST: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return format_iso8601_ms(ms);
        };
        match &*last {
            Some((at, text)) if *at == ms => text.clone(),
            _ => {
                let text = format_iso8601_ms(ms);
                *last = Some((ms, text.clone()));
                text
            }
        }
    })
}

fn limit_text(limit: Limit) -> String {
    match limit {
        Limit::Calls(n) => n.to_string(),
        Limit::Unlimited => "unlimited".to_owned(),
    }
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
