//! The table's states: fresh, stale and revalidated, patched, marked stale,
//! fallen back to, spent.

use conferbot::{ObjectId, PageRequest, WebhookDelivery, WebhookEvent};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer(u16, String);

impl CachedAnswer for Answer {
    fn status(&self) -> u16 {
        self.0
    }
    fn body(&self) -> &[u8] {
        self.1.as_bytes()
    }
    fn with_body(&self, body: Vec<u8>) -> Self {
        Answer(self.0, String::from_utf8(body).unwrap())
    }
}

type Table = CacheTable<Answer, &'static str>;

const SECOND: u64 = 1_000;
const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

fn ok(body: &str) -> Answer {
    Answer(200, body.to_owned())
}

fn table(fresh_s: u64, stale_s: u64) -> Table {
    Table::new(Freshness {
        fresh: Duration::from_secs(fresh_s),
        stale: Duration::from_secs(stale_s),
    })
}

fn key(op: Operation) -> Target {
    Target {
        operation: op,
        ids: vec![],
        page: op.is_paginated().then(PageRequest::default),
    }
}

fn free() -> Spend {
    Spend::FREE
}

fn spent() -> Spend {
    Spend::NONE
}

fn lead(table: &mut Table, key: &Target, now: u64) -> CallId {
    match table.lookup(key, now, free(), |_| "call") {
        Lookup::Led(call, _) => call,
        other => panic!("expected to lead, got {other:?}"),
    }
}

fn store(table: &mut Table, key: &Target, now: u64, answer: &Answer) {
    let call = lead(table, key, now);
    assert_eq!(
        table.settle(key, call, Finished::Answer(answer), now),
        Settled::Passed
    );
}

fn created(bot: &str) -> Invalidation {
    let mut delivery =
        WebhookDelivery::new(WebhookEvent::ResponseCreated, "2024-12-15T09:30:00.000Z");
    delivery.bot_id = Some(bot.to_owned());
    Invalidation::of_delivery(&delivery)
}

#[test]
fn the_first_leads_others_join_then_hits_while_fresh() {
    let mut table = table(2, 0);
    let usage = key(Operation::GetUsage);
    let call = lead(&mut table, &usage, 0);
    assert_eq!(
        table.lookup(&usage, 10, free(), |_| "other"),
        Lookup::Joined("call")
    );
    table.settle(&usage, call, Finished::Answer(&ok("{}")), 100);
    assert_eq!(
        table.lookup(&usage, 2_099, free(), |_| "x"),
        Lookup::Hit {
            answer: ok("{}"),
            age_ms: 1_999
        }
    );
    // No stale window: gone at its freshness.
    lead(&mut table, &usage, 2_100);
}

#[test]
fn a_stale_answer_is_served_at_once_and_refreshed_once_per_interval() {
    let mut table = table(10, 3_600);
    let usage = key(Operation::GetUsage);
    store(&mut table, &usage, 0, &ok("old"));
    // Due: the first asker serves it and gets the one refresh to run.
    let refresh = match table.lookup(&usage, 10 * SECOND, free(), |_| "x") {
        Lookup::Stale {
            answer,
            age_ms,
            refresh: Some(call),
        } => {
            assert_eq!((answer, age_ms), (ok("old"), 10 * SECOND));
            call
        }
        other => panic!("{other:?}"),
    };
    // Everyone else meanwhile: served stale, no second call.
    for now in [10 * SECOND + 1, 15 * SECOND] {
        assert!(matches!(
            table.lookup(&usage, now, free(), |_| "x"),
            Lookup::Stale { refresh: None, .. }
        ));
    }
    table.settle(&usage, refresh, Finished::Answer(&ok("new")), 16 * SECOND);
    assert_eq!(
        table.lookup(&usage, 17 * SECOND, free(), |_| "x"),
        Lookup::Hit {
            answer: ok("new"),
            age_ms: SECOND
        }
    );
}

#[test]
fn a_failed_refresh_keeps_the_answer_and_waits_an_interval() {
    let mut table = table(10, 3_600);
    let usage = key(Operation::GetUsage);
    store(&mut table, &usage, 0, &ok("old"));
    let stretched = Spend {
        may_call: true,
        interval_ms: 60 * SECOND,
        reread_ms: 0,
    };
    // Past its freshness but not yet due by the (stretched) interval.
    assert!(matches!(
        table.lookup(&usage, 30 * SECOND, stretched, |_| "x"),
        Lookup::Stale { refresh: None, .. }
    ));
    let Lookup::Stale {
        refresh: Some(call),
        ..
    } = table.lookup(&usage, 60 * SECOND, stretched, |_| "x")
    else {
        panic!("due at the interval");
    };
    let failed = table.settle(&usage, call, Finished::Failed { status: 502 }, 61 * SECOND);
    assert_eq!(failed, Settled::Passed);
    assert!(matches!(
        table.lookup(&usage, 119 * SECOND, stretched, |_| "x"),
        Lookup::Stale { refresh: None, .. }
    ));
    assert!(matches!(
        table.lookup(&usage, 120 * SECOND, stretched, |_| "x"),
        Lookup::Stale {
            refresh: Some(_),
            ..
        }
    ));
    // Past fresh + stale: read again, the old answer kept as a fallback.
    let call = lead(&mut table, &usage, 3_610 * SECOND);
    assert_eq!(
        table.settle(
            &usage,
            call,
            Finished::Failed { status: 504 },
            3_611 * SECOND
        ),
        Settled::Fallback {
            answer: ok("old"),
            age_ms: 3_611 * SECOND
        }
    );
}

#[test]
fn a_patch_applies_in_place_and_a_refresh_begun_before_it_is_not_stored() {
    let mut table = table(60, 3_600);
    let list = key(Operation::ListChatbots);
    let page = format!(r#"{{"data":[{{"id":"{BOT}","responseCount":4}}],"total":1}}"#);
    store(&mut table, &list, 0, &ok(&page));
    let Lookup::Stale {
        refresh: Some(call),
        ..
    } = table.lookup(&list, 60 * SECOND, free(), |_| "x")
    else {
        panic!("due");
    };
    table.apply(&created(BOT));
    let patched = page.replace(":4}", ":5}");
    table.settle(&list, call, Finished::Answer(&ok(&page)), 61 * SECOND);
    match table.lookup(&list, 62 * SECOND, free(), |_| "x") {
        Lookup::Stale { answer, age_ms, .. } => {
            assert_eq!(answer, ok(&patched), "the pre-event refresh was not stored");
            assert_eq!(age_ms, 62 * SECOND, "age counts from the upstream fetch");
        }
        other => panic!("{other:?}"),
    }
    // Three more events, three more.
    for _ in 0..3 {
        table.apply(&created(BOT));
    }
    let Lookup::Stale { answer, .. } = table.lookup(&list, 63 * SECOND, free(), |_| "x") else {
        panic!()
    };
    assert!(answer.1.contains("\"responseCount\":8"), "{}", answer.1);
}

#[test]
fn a_stale_mark_makes_the_next_read_wait_for_a_fresh_one_unless_nothing_may_be_spent() {
    let mut table = table(60, 3_600);
    let responses = Target {
        operation: Operation::ListResponses,
        ids: vec![ObjectId::parse(BOT, "id").unwrap()],
        page: Some(PageRequest::default()),
    };
    store(&mut table, &responses, 0, &ok("page"));
    table.apply(&created(BOT));
    // The month is spent: what is held is served, marked stale.
    assert!(matches!(
        table.lookup(&responses, SECOND, spent(), |_| "x"),
        Lookup::Stale { refresh: None, .. }
    ));
    let call = lead(&mut table, &responses, 2 * SECOND);
    table.settle(
        &responses,
        call,
        Finished::Answer(&ok("new page")),
        3 * SECOND,
    );
    assert!(matches!(
        table.lookup(&responses, 4 * SECOND, free(), |_| "x"),
        Lookup::Hit { .. }
    ));

    // Under a budget, a changed read is read again at most once per interval
    // (here a minute after its last read), and served stale until then.
    table.apply(&created(BOT));
    let budgeted = Spend {
        may_call: true,
        interval_ms: 60 * SECOND,
        reread_ms: 60 * SECOND,
    };
    assert!(matches!(
        table.lookup(&responses, 62 * SECOND, budgeted, |_| "x"),
        Lookup::Stale { refresh: None, .. }
    ));
    assert!(matches!(
        table.lookup(&responses, 63 * SECOND, budgeted, |_| "call"),
        Lookup::Led(..)
    ));

    // A write's change is not paced: its writer expects to see it at once.
    let hooks = key(Operation::ListWebhooks);
    store(&mut table, &hooks, 100 * SECOND, &ok("before"));
    table.apply(&Invalidation::of_write(Operation::CreateWebhook));
    assert!(matches!(
        table.lookup(&hooks, 101 * SECOND, budgeted, |_| "call"),
        Lookup::Led(..)
    ));
}

#[test]
fn failures_fall_back_to_what_was_held_only_when_they_say_nothing_of_the_data() {
    let mut table = table(1, 3_600);
    let hooks = key(Operation::ListWebhooks);
    for (status, falls) in [
        (429, true),
        (500, true),
        (503, true),
        (404, false),
        (400, false),
    ] {
        store(&mut table, &hooks, 0, &ok("held"));
        table.apply(&Invalidation::of_write(Operation::CreateWebhook));
        let call = lead(&mut table, &hooks, SECOND);
        let settled = table.settle(
            &hooks,
            call,
            Finished::Answer(&Answer(status, "{}".into())),
            SECOND,
        );
        assert_eq!(
            matches!(settled, Settled::Fallback { .. }),
            falls,
            "{status}"
        );
        if !falls {
            assert!(table.is_empty(), "{status}");
        }
    }
    assert!(falls_back(504) && !falls_back(401));
}

#[test]
fn a_zero_ttl_coalesces_but_never_keeps() {
    let mut table = table(0, 3_600);
    let usage = key(Operation::GetUsage);
    let call = lead(&mut table, &usage, 0);
    assert!(matches!(
        table.lookup(&usage, 0, free(), |_| "x"),
        Lookup::Joined(_)
    ));
    table.settle(&usage, call, Finished::Answer(&ok("{}")), 0);
    lead(&mut table, &usage, 0);
}

#[test]
fn writes_mark_what_they_change_and_drop_reads_in_flight() {
    let mut table = table(2, 0);
    let hooks = key(Operation::ListWebhooks);
    let usage = key(Operation::GetUsage);
    store(&mut table, &hooks, 0, &ok("[]"));
    store(&mut table, &usage, 0, &ok("{}"));
    table.apply(&Invalidation::of_write(Operation::CreateWebhook));
    let in_flight = lead(&mut table, &hooks, 10);
    table.apply(&Invalidation::of_write(Operation::CreateWebhook));
    table.settle(&hooks, in_flight, Finished::Answer(&ok("[1]")), 20);
    lead(&mut table, &hooks, 30);
    assert!(matches!(
        table.lookup(&usage, 30, free(), |_| "x"),
        Lookup::Hit { .. }
    ));
    assert_eq!(table.held(), 1);
}

#[test]
fn answers_past_their_life_are_swept_and_the_least_recently_served_evicted() {
    let mut table = table(1, 0);
    for page in 1..=(SWEEP_ABOVE as u32 + 2) {
        let target = Target {
            page: PageRequest::new(page, 20).ok(),
            ..key(Operation::ListChatbots)
        };
        store(&mut table, &target, 0, &ok("{}"));
    }
    assert_eq!(table.len(), SWEEP_ABOVE + 2);
    lead(&mut table, &key(Operation::GetUsage), 5 * SECOND);
    assert_eq!(table.len(), 1);

    let mut table = self::table(3_600, 0);
    let page = |n: u32| Target {
        page: PageRequest::new(n, 20).ok(),
        ..key(Operation::ListChatbots)
    };
    for n in 1..=(MAX_CACHE_ENTRIES as u32) {
        store(&mut table, &page(n), u64::from(n), &ok("{}"));
    }
    // Page 1 was served lately: page 2 is the least recently served.
    assert!(matches!(
        table.lookup(&page(1), 10_000, free(), |_| "x"),
        Lookup::Hit { .. }
    ));
    store(
        &mut table,
        &page(MAX_CACHE_ENTRIES as u32 + 1),
        10_001,
        &ok("{}"),
    );
    assert_eq!(table.held(), MAX_CACHE_ENTRIES);
    assert!(matches!(
        table.lookup(&page(1), 10_002, free(), |_| "x"),
        Lookup::Hit { .. }
    ));
    assert!(matches!(
        table.lookup(&page(2), 10_003, free(), |_| "x"),
        Lookup::Led(..)
    ));
}

#[test]
fn reads_are_cached_and_writes_are_not() {
    assert!(is_cached(Operation::ListChatbots) && is_cached(Operation::GetUsage));
    assert!(!is_cached(Operation::CreateWebhook) && !is_cached(Operation::DeleteWebhook));
}
