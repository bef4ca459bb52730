use std::collections::VecDeque;

use super::*;

const NOW_SECS: i64 = 1_738_281_600;

fn window(max: u32, window_ms: u64, margin_ms: u64, share: u8) -> Window {
    let spec = RateSpec {
        max,
        window: Duration::from_millis(window_ms),
    };
    Window::with_margin(spec, Duration::from_millis(margin_ms), share)
}

fn client(name: &str) -> ClientId {
    ClientId::user(name).unwrap()
}

/// Joins and polls at once, as an arriving request of `who` does.
fn arrive_as(w: &mut Window, who: &str, now: u64, deadline: u64) -> (Ticket, Turn) {
    let ticket = w.join(&client(who), NOW_SECS).unwrap();
    (ticket, w.poll(ticket, now, deadline))
}

fn arrive(w: &mut Window, now: u64, deadline: u64) -> (Ticket, Turn) {
    arrive_as(w, "one", now, deadline)
}

/// Polls `waiting` (in order) until each is admitted or refused, jumping
/// to the earliest wake time; returns (who, when) per admission.
fn run(
    w: &mut Window,
    mut waiting: Vec<(&'static str, Ticket, u64)>,
    mut now: u64,
) -> Vec<(&'static str, u64)> {
    let mut admitted = Vec::new();
    while !waiting.is_empty() {
        let mut wake = u64::MAX;
        waiting.retain(
            |&(who, ticket, deadline)| match w.poll(ticket, now, deadline) {
                Turn::Admitted => {
                    admitted.push((who, now));
                    false
                }
                Turn::WaitUntil(at) => {
                    wake = wake.min(at);
                    true
                }
                Turn::Refused { .. } => false,
            },
        );
        if wake != u64::MAX {
            assert!(wake > now, "woken for nothing at {now}");
            now = wake;
        }
    }
    admitted
}

#[test]
fn room_says_what_is_left_and_when_it_frees() {
    let mut w = window(3, 1_000, 100, 100);
    assert_eq!(
        (w.room(0).limit, w.room(0).remaining, w.room(0).reset_ms),
        (3, 3, 0)
    );
    arrive(&mut w, 0, 10_000);
    arrive(&mut w, 500, 10_000);
    assert_eq!((w.room(600).remaining, w.room(600).reset_ms), (1, 0));
    arrive(&mut w, 600, 10_000);
    assert_eq!((w.room(700).remaining, w.room(700).reset_ms), (0, 400));
    assert_eq!(w.room(1_100).remaining, 1);
    // A waiter takes a place too.
    let (_, turn) = arrive_as(&mut w, "two", 700, 10_000);
    assert_eq!(turn, Turn::WaitUntil(1_100));
    assert_eq!(w.room(1_100).remaining, 0);
    w.pause(1_100, Duration::from_millis(2_000));
    assert_eq!(
        (w.room(1_200).remaining, w.room(1_200).reset_ms),
        (0, 1_900)
    );
}

#[test]
fn admits_max_at_once_then_one_per_expiry() {
    let mut w = window(3, 1_000, 100, 100);
    for _ in 0..3 {
        assert_eq!(arrive(&mut w, 0, 10_000).1, Turn::Admitted);
    }
    // The 4th waits until the 1st is older than window + margin.
    let (ticket, turn) = arrive(&mut w, 0, 10_000);
    assert_eq!(turn, Turn::WaitUntil(1_100));
    assert_eq!(w.poll(ticket, 1_099, 10_000), Turn::WaitUntil(1_100));
    assert_eq!(w.poll(ticket, 1_100, 10_000), Turn::Admitted);
}

#[test]
fn waiters_are_refused_exactly_when_their_turn_is_past_the_deadline() {
    // Two sent at 0 and 500; five more at 600 would go at 1000, 1500, …
    for (nth, turn) in [1_000_u64, 1_500, 2_000, 2_500, 3_000]
        .into_iter()
        .enumerate()
    {
        let mut w = window(2, 1_000, 0, 100);
        arrive(&mut w, 0, 60_000);
        arrive(&mut w, 500, 60_000);
        for _ in 0..nth {
            assert!(matches!(arrive(&mut w, 600, 60_000).1, Turn::WaitUntil(_)));
        }
        let (_, fits) = arrive(&mut w, 600, turn);
        assert!(matches!(fits, Turn::WaitUntil(_)), "#{nth}: {fits:?}");
        let (_, late) = arrive(&mut w, 600, turn);
        assert!(matches!(late, Turn::Refused { .. }), "#{nth}: {late:?}");
    }
}

#[test]
fn a_client_s_own_requests_keep_their_order() {
    let mut w = window(1, 1_000, 0, 100);
    arrive(&mut w, 0, 10_000);
    let first = arrive(&mut w, 0, 10_000).0;
    let second = arrive(&mut w, 0, 10_000).0;
    w.take_news();
    // At 1000 one slot is free: the second polls first, the first gets it.
    assert!(matches!(w.poll(second, 1_000, 10_000), Turn::WaitUntil(_)));
    assert!(w.take_news(), "the first was granted while asleep");
    assert_eq!(w.poll(first, 1_000, 10_000), Turn::Admitted);
}

#[test]
fn never_more_than_max_sends_in_any_span() {
    let mut w = window(5, 1_000, 50, 100);
    let waiting: Vec<_> = (0..23)
        .map(|_| ("one", w.join(&client("one"), NOW_SECS).unwrap(), u64::MAX))
        .collect();
    let sends: Vec<u64> = run(&mut w, waiting, 0)
        .into_iter()
        .map(|(_, at)| at)
        .collect();
    assert_eq!(sends.len(), 23);
    for pair in sends.windows(6) {
        assert!(pair[5] - pair[0] >= 1_050, "{sends:?}");
    }
    // 23 sends at 5 per 1.05 s: the last batch starts after 4 spans.
    assert_eq!(*sends.last().unwrap(), 4_200);
}

#[test]
fn refuses_past_the_deadline_without_taking_a_turn() {
    let mut w = window(2, 1_000, 0, 100);
    arrive(&mut w, 0, 1);
    arrive(&mut w, 0, 1);
    let turn = arrive(&mut w, 0, 300).1;
    assert_eq!(
        turn,
        Turn::Refused {
            retry_after_ms: 1_000
        }
    );
    assert_eq!(w.queued(), 0);
    assert_eq!(arrive(&mut w, 1_000, 1_001).1, Turn::Admitted);
    assert_eq!(arrive(&mut w, 1_000, 1_001).1, Turn::Admitted);
}

#[test]
fn an_upstream_429_pauses_the_queue_and_a_longer_pause_wins() {
    let mut w = window(100, 1_000, 0, 100);
    arrive(&mut w, 0, 1);
    w.pause(0, Duration::from_secs(2));
    w.pause(0, Duration::from_secs(1));
    let (ticket, turn) = arrive(&mut w, 0, 5_000);
    assert_eq!(turn, Turn::WaitUntil(2_000));
    assert_eq!(w.poll(ticket, 2_000, 5_000), Turn::Admitted);
    w.pause(2_000, Duration::from_secs(30));
    let turn = arrive(&mut w, 2_000, 7_000).1;
    assert_eq!(
        turn,
        Turn::Refused {
            retry_after_ms: 30_000
        }
    );
}

#[test]
fn a_waiter_that_leaves_lets_the_next_move_up() {
    let mut w = window(1, 1_000, 0, 100);
    arrive(&mut w, 0, 1);
    let (gone, _) = arrive(&mut w, 0, 10_000);
    // Behind `gone`, the next one's turn (2000) is past a 1500 deadline…
    let (late, turn) = arrive(&mut w, 0, 1_500);
    assert!(
        matches!(
            turn,
            Turn::Refused {
                retry_after_ms: 2_000
            }
        ),
        "{turn:?}"
    );
    assert_eq!(w.poll(late, 0, 1_500), Turn::Refused { retry_after_ms: 0 });
    // …but once `gone` leaves, the next one fits.
    w.leave(gone);
    assert!(w.take_news());
    let (_, turn) = arrive(&mut w, 0, 1_500);
    assert_eq!(turn, Turn::WaitUntil(1_000));
    assert_eq!(w.poll(gone, 0, 10_000), Turn::Refused { retry_after_ms: 0 });
}

#[test]
fn waiting_clients_take_turns_and_newcomers_go_first() {
    let mut w = window(1, 100, 0, 100);
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(("a", w.join(&client("a"), NOW_SECS).unwrap(), u64::MAX));
    }
    waiting.push(("b", w.join(&client("b"), NOW_SECS).unwrap(), u64::MAX));
    waiting.push(("b", w.join(&client("b"), NOW_SECS).unwrap(), u64::MAX));
    let order: Vec<&str> = run(&mut w, waiting, 0)
        .into_iter()
        .map(|(who, _)| who)
        .collect();
    assert_eq!(order, ["a", "b", "a", "b", "a"]);
}

#[test]
fn a_burst_from_one_client_leaves_the_window_to_others() {
    // The documented 60/60s and the default 10 % share: 6 in any 6.12 s.
    let mut w = Window::new(RateSpec::UPSTREAM, 10);
    assert_eq!(
        w.share(),
        Share {
            slots: 6,
            span: 6_120
        }
    );
    let queue_wait = 10_000;
    let burst: Vec<Turn> = (0..2_000)
        .map(|_| arrive_as(&mut w, "attacker", 0, queue_wait).1)
        .collect();
    let admitted = burst.iter().filter(|t| **t == Turn::Admitted).count();
    let refused = burst
        .iter()
        .filter(|t| matches!(t, Turn::Refused { .. }))
        .count();
    assert_eq!(admitted, 6, "one share at once");
    // The next share (at 6.12 s) fits the queue wait and waits; the rest is
    // refused at once instead of holding the window for a minute.
    assert_eq!(refused, 2_000 - 12);
    // Another client, a second later and again later, goes at once.
    for at in [1_000, 3_000] {
        assert_eq!(
            arrive_as(&mut w, "victim", at, at + queue_wait).1,
            Turn::Admitted
        );
    }
}

#[test]
fn one_client_alone_keeps_the_whole_rate() {
    let mut w = window(20, 2_000, 200, 10);
    let waiting: Vec<_> = (0..100)
        .map(|_| ("one", w.join(&client("one"), NOW_SECS).unwrap(), u64::MAX))
        .collect();
    let sends: Vec<u64> = run(&mut w, waiting, 0)
        .into_iter()
        .map(|(_, at)| at)
        .collect();
    for pair in sends.windows(21) {
        assert!(pair[20] - pair[0] >= 2_200, "{sends:?}");
    }
    // 100 sends at 2 per 220 ms: the same rate as 20 per 2.2 s, spread.
    assert_eq!(*sends.last().unwrap(), 49 * 220);
    // Never more than 2 (10 % of 20) within 220 ms.
    for pair in sends.windows(3) {
        assert!(pair[2] - pair[0] >= 220, "{sends:?}");
    }
}

#[test]
fn the_monthly_cap_refuses_at_join_and_refunds_what_took_no_turn() {
    let mut w = window(1, 1_000, 0, 100).with_monthly_cap(Some(2));
    assert_eq!(arrive(&mut w, 0, 10).1, Turn::Admitted);
    // Refused by the window: the reservation is given back.
    assert!(matches!(arrive(&mut w, 0, 10).1, Turn::Refused { .. }));
    assert_eq!(arrive(&mut w, 1_000, 1_010).1, Turn::Admitted);
    let spent = w.join(&client("one"), NOW_SECS).unwrap_err();
    assert_eq!(spent.cap, 2);
    assert!(w.join(&client("other"), NOW_SECS).is_ok());
    let refusal = BffError::from(WindowRefusal::ClientSpent(spent));
    assert_eq!(refusal.status(), 429);
}

#[test]
fn a_granted_turn_not_taken_is_given_back() {
    let mut w = window(1, 1_000, 0, 100);
    let a = w.join(&client("a"), NOW_SECS).unwrap();
    let b = w.join(&client("b"), NOW_SECS).unwrap();
    // b polls first; a is granted the slot, then goes away.
    assert!(matches!(w.poll(b, 0, 10_000), Turn::WaitUntil(1_000)));
    w.leave(a);
    assert_eq!(w.poll(b, 0, 10_000), Turn::Admitted);
    let sent: VecDeque<u64> = w.sent.clone();
    assert_eq!(sent.len(), 1);
}

#[test]
fn upstream_429s_pause_within_bounds_and_repeat_within_the_budget() {
    assert_eq!(pause_after_429(Some(7)), Duration::from_secs(7));
    assert_eq!(pause_after_429(None), DEFAULT_PAUSE);
    assert_eq!(pause_after_429(Some(86_400 * 30)), MAX_PAUSE);
    let second = Duration::from_secs(1);
    assert!(repeat_after_429(1, second, second));
    assert!(!repeat_after_429(1, second * 2, second));
    assert!(!repeat_after_429(MAX_ATTEMPTS, second, second * 10));
}

#[test]
fn margins_and_refusals() {
    assert_eq!(
        default_margin(Duration::from_secs(60)),
        Duration::from_millis(1_200)
    );
    assert_eq!(
        default_margin(Duration::from_secs(2)),
        Duration::from_millis(200)
    );
    assert_eq!(
        default_span(RateSpec::UPSTREAM),
        Duration::from_millis(61_200)
    );
    let full = WindowRefusal::Full {
        retry_after: Duration::from_secs(3),
    };
    assert_eq!(BffError::from(full).status(), 429);
    assert_eq!(BffError::from(WindowRefusal::Unavailable).status(), 503);
}
