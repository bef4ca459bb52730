//! The budget arithmetic: learning, counting, refusals, the month's turn and
//! the stretched intervals.

use conferbot::timestamp::parse_iso8601_secs;
use conferbot::Plan;

use super::*;
use crate::refresh_budget::RefreshBudget;

const OFF: RefreshBudget = RefreshBudget::Off;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// Unix ms of an ISO 8601 instant.
fn at(iso: &str) -> u64 {
    u64::try_from(parse_iso8601_secs(iso).unwrap() * 1_000).unwrap()
}

fn usage(month: &str, used: u64, limit: Limit) -> Usage {
    Usage {
        month: month.into(),
        plan: Plan::Starter,
        used,
        limit,
        remaining: match limit {
            Limit::Calls(n) => Limit::Calls(n - used),
            Limit::Unlimited => Limit::Unlimited,
        },
    }
}

fn book(used: u64, limit: Limit) -> QuotaBook {
    let mut book = QuotaBook::default();
    book.learn(&usage("2025-01", used, limit));
    book
}

#[test]
fn budgets_parse_as_calls_or_a_share_of_the_plan() {
    assert_eq!("8000".parse(), Ok(MonthlyBudget::Calls(8000)));
    assert_eq!(" 80% ".parse(), Ok(MonthlyBudget::Percent(80)));
    for bad in ["0", "0%", "101%", "-5", "ten", "", "50.5%"] {
        assert!(bad.parse::<MonthlyBudget>().is_err(), "{bad}");
    }
    assert_eq!(MonthlyBudget::Percent(10).to_string(), "10%");
    let starter = Limit::Calls(10_000);
    assert_eq!(MonthlyBudget::Percent(10).cap(starter), Some(1_000));
    assert_eq!(MonthlyBudget::Calls(20_000).cap(starter), Some(10_000));
    assert_eq!(MonthlyBudget::Calls(500).cap(Limit::Unlimited), Some(500));
    assert_eq!(MonthlyBudget::Percent(50).cap(Limit::Unlimited), None);
}

#[test]
fn the_months_use_is_as_learned_plus_own_calls_since() {
    let now = at("2025-01-15T00:00:00Z");
    let mut book = QuotaBook::default();
    assert_eq!(book.month(now), None);
    book.count_call(now);
    assert!(book.learn_answer(
        br#"{"data":{"month":"2025-01","plan":"Starter","used":1423,"limit":10000,"remaining":8577}}"#
    ));
    assert!(!book.learn_answer(b"{\"data\":[]}"));
    for _ in 0..7 {
        book.count_call(now);
    }
    let view = book.month(now).unwrap();
    assert_eq!((view.used, view.remaining()), (1_430, Limit::Calls(8_570)));
    assert_eq!(view.resets_at_ms, at("2025-02-01T00:00:00Z"));
}

#[test]
fn a_spent_month_refuses_until_it_turns_then_starts_over() {
    let now = at("2025-01-31T23:59:00Z");
    let mut book = book(9_999, Limit::Calls(10_000));
    assert_eq!(book.refusal(None, now), None);
    book.count_call(now);
    let refused = book.refusal(None, now).unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(
        refused.retry_after(),
        Some(std::time::Duration::from_secs(60))
    );
    assert!(!book.spend(None, OFF, 0, 1, now).may_call);

    let turned = at("2025-02-01T00:00:00Z");
    assert_eq!(book.refusal(None, turned), None);
    book.count_call(turned);
    let view = book.month(turned).unwrap();
    assert_eq!((view.month.as_str(), view.used), ("2025-02", 1));
}

#[test]
fn the_upstreams_monthly_refusal_holds_until_its_retry_after() {
    let now = at("2025-01-10T00:00:00Z");
    let mut book = book(10, Limit::Calls(10_000));
    // Other users of the key spent the month: the upstream says so.
    book.refused_for_month(Some(3_600), now);
    assert!(book.refusal(None, now + HOUR - 1).is_some());
    assert_eq!(book.month(now).unwrap().remaining(), Limit::Calls(0));
    assert_eq!(book.month(now).unwrap().resets_at_ms, now + HOUR);
    // Its Retry-After is the month's turn, even against the clocks.
    assert_eq!(book.refusal(None, now + HOUR), None);
    assert_eq!(book.month(now + HOUR).unwrap().month, "2025-02");
    let mut unknown = QuotaBook::default();
    unknown.refused_for_month(None, now);
    assert!(unknown.refusal(None, now + DAY - 1).is_some());
}

#[test]
fn a_budget_caps_the_months_use() {
    let now = at("2025-01-15T00:00:00Z");
    let mut book = book(995, Limit::Calls(10_000));
    let budget = Some(MonthlyBudget::Percent(10));
    for _ in 0..5 {
        assert_eq!(book.refusal(budget, now), None);
        book.count_call(now);
    }
    match book.refusal(budget, now) {
        Some(BffError::MonthSpent {
            budget,
            retry_after,
        }) => {
            assert_eq!(budget, Some(1_000));
            assert_eq!(retry_after.as_millis(), u128::from(17 * DAY));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(book.refusal(None, now), None, "the plan itself has room");
    assert!(QuotaBook::default().needs_learning(budget, OFF, now));
    assert!(!book.needs_learning(budget, OFF, now));
    assert!(!QuotaBook::default().needs_learning(None, OFF, now));
    // The refresh budget needs the plan too, by default.
    assert!(QuotaBook::default().needs_learning(None, RefreshBudget::DEFAULT, now));
    assert!(!book.needs_learning(None, RefreshBudget::DEFAULT, now));
}

#[test]
fn intervals_stretch_so_that_revalidating_every_key_fits_what_is_left() {
    let now = at("2025-01-21T00:00:00Z"); // 11 days left
    let book = book(400, Limit::Calls(10_000));
    let budget = Some(MonthlyBudget::Calls(1_000)); // 600 left
    let spend = book.spend(budget, OFF, HOUR, 4, now);
    assert!(spend.may_call);
    // 4 keys × 11 days / 600 calls = 1.76 hours.
    assert_eq!(spend.interval_ms, 4 * 11 * DAY / 600);
    assert_eq!(
        spend.reread_ms, spend.interval_ms,
        "a budget paces re-reads too"
    );
    assert_eq!(book.spend(None, OFF, HOUR, 4, now).reread_ms, 0);
    // Never shorter than the freshness; without a budget, the plan's limit
    // is the cap (9,600 left: 4 × 11 days / 9,600 = 6.6 minutes < 1 hour).
    assert_eq!(book.spend(None, OFF, HOUR, 4, now).interval_ms, HOUR);
    // Nothing learned: nothing to stretch by.
    assert_eq!(
        QuotaBook::default().spend(budget, OFF, HOUR, 4, now),
        Spend {
            may_call: true,
            interval_ms: HOUR,
            reread_ms: HOUR,
        }
    );
    let unlimited = self::book(5, Limit::Unlimited);
    assert_eq!(unlimited.spend(None, OFF, HOUR, 100, now).interval_ms, HOUR);
}

#[test]
fn refresh_budgets_parse_as_calls_a_share_or_off() {
    assert_eq!("off".parse(), Ok(RefreshBudget::Off));
    assert_eq!(
        " 10% ".parse(),
        Ok(RefreshBudget::Capped(MonthlyBudget::Percent(10)))
    );
    assert_eq!(
        "1000".parse(),
        Ok(RefreshBudget::Capped(MonthlyBudget::Calls(1000)))
    );
    for bad in ["0", "0%", "101%", "none", "", "-1"] {
        let err = bad.parse::<RefreshBudget>().unwrap_err();
        assert!(err.starts_with("--refresh-budget must be"), "{bad}: {err}");
    }
    assert_eq!(RefreshBudget::DEFAULT.to_string(), "10%");
    assert_eq!(RefreshBudget::Off.to_string(), "off");
    assert_eq!(RefreshBudget::default(), RefreshBudget::DEFAULT);
    assert_eq!(
        RefreshBudget::DEFAULT.cap(Limit::Calls(10_000)),
        Some(1_000)
    );
    assert_eq!(RefreshBudget::Off.cap(Limit::Calls(10_000)), None);
}

#[test]
fn the_refresh_budget_paces_every_held_key_to_fit_its_cap_over_a_month() {
    let now = at("2025-01-21T00:00:00Z");
    let month = 31 * DAY; // January
    let book = book(400, Limit::Calls(10_000));
    let refresh = RefreshBudget::DEFAULT; // 1,000 calls a month
                                          // 4 keys × 31 days / 1,000 calls = 2.976 hours, longer than the TTL and
                                          // than the plan's stretch (4 × 11 days / 9,600 = 6.6 minutes).
    let spend = book.spend(None, refresh, HOUR, 4, now);
    assert_eq!(spend.interval_ms, 4 * month / 1_000);
    assert_eq!(
        spend.reread_ms, spend.interval_ms,
        "event-staled re-reads too"
    );
    // Refreshing all 4 keys at that pace for the whole month spends the cap.
    assert_eq!(4 * month / spend.interval_ms, 1_000);
    // One key: 44.6 minutes < the TTL, which wins.
    assert_eq!(book.spend(None, refresh, HOUR, 1, now).interval_ms, HOUR);
    // Off: today's behaviour (TTL, no pacing of re-reads).
    let off = book.spend(None, OFF, HOUR, 4, now);
    assert_eq!((off.interval_ms, off.reread_ms), (HOUR, 0));
    // A monthly budget's stretch wins when it is longer: 600 calls left
    // over 11 days is 4 × 11 days / 600 = 1.76 hours < 2.976 hours.
    let both = book.spend(Some(MonthlyBudget::Calls(1_000)), refresh, HOUR, 4, now);
    assert_eq!(both.interval_ms, 4 * month / 1_000);
    let tight = book.spend(Some(MonthlyBudget::Calls(450)), refresh, HOUR, 4, now);
    assert_eq!(tight.interval_ms, 4 * 11 * DAY / 50);
    // A number of calls; February is shorter.
    let feb = at("2025-02-10T00:00:00Z");
    let calls = RefreshBudget::Capped(MonthlyBudget::Calls(280));
    let mut february = QuotaBook::default();
    february.learn(&usage("2025-02", 0, Limit::Calls(10_000)));
    assert_eq!(
        february.spend(None, calls, HOUR, 10, feb).interval_ms,
        10 * 28 * DAY / 280
    );
    // Until the plan is learned: the TTL, and re-reads paced by it.
    assert_eq!(
        QuotaBook::default().spend(None, refresh, HOUR, 4, now),
        Spend {
            may_call: true,
            interval_ms: HOUR,
            reread_ms: HOUR,
        }
    );
    // A share of an unlimited plan sets no bound.
    let unlimited = self::book(5, Limit::Unlimited);
    assert_eq!(
        unlimited.spend(None, refresh, HOUR, 100, now).interval_ms,
        HOUR
    );
    // A spent month still spends nothing.
    assert_eq!(
        self::book(10_000, Limit::Calls(10_000)).spend(None, refresh, HOUR, 4, now),
        Spend::NONE
    );
}

#[test]
fn the_month_turns_by_the_upstreams_clock() {
    // Our clock is 10 s behind the upstream's.
    let ours = at("2025-01-31T23:59:40Z");
    let mut book = book(10_000, Limit::Calls(10_000));
    book.learn_clock("Fri, 31 Jan 2025 23:59:50 GMT", ours);
    assert_eq!(book.clock_offset_ms, 10_000);
    let view = book.month(ours).unwrap();
    assert_eq!(view.resets_at_ms, ours + 10_000);
    assert!(book.refusal(None, ours + 9_999).is_some());
    assert_eq!(book.refusal(None, ours + 10_000), None);
    book.learn_clock("not a date", ours);
    assert_eq!(book.clock_offset_ms, 10_000);
}
