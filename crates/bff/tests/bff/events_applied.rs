//! Deliveries applied to the cached answers instead of dropping them: N
//! documented `response.created` deliveries for a chatbot make its count as
//! served grow by exactly N with no upstream call, retries are applied once,
//! and what the event cannot patch (the chatbot's responses) is stale: under
//! the default `--refresh-budget` it is read again at the budget's pace (not
//! within this test: 0 calls), with `--refresh-budget off` once per event
//! for every reader together.

use serde_json::Value;

use crate::live::{now, post_signed, SECRET};
use conferbot_bff::WebhookSecret;
use conferbot_policy::refresh_budget::RefreshBudget;

use crate::support::{sandbox_config, Harness};
use crate::webhooks::HOOK;

/// The reference's flat body, in its order, for response `n` of `bot`.
pub fn documented(event: &str, bot: &str, n: u32, at: i64) -> String {
    let iso = conferbot::timestamp::format_iso8601_ms(at * 1_000);
    let response = format!("65a1b2c3d4e5f6a7b8c9{n:04x}");
    match event {
        "response.created" => format!(
            r#"{{"event":"response.created","chatSessionId":"sess_{n:012}","responseId":"{response}","botId":"{bot}","visitorId":"visitor_{n:06}","timestamp":"{iso}"}}"#
        ),
        "response.updated" => format!(
            r#"{{"event":"response.updated","responseId":"{response}","botId":"{bot}","chatSessionId":"sess_{n:012}","timestamp":"{iso}"}}"#
        ),
        other => format!(
            r#"{{"event":"{other}","chatSessionId":"sess_{n:012}","botId":"{bot}","visitorId":"visitor_{n:06}","timestamp":"{iso}"}}"#
        ),
    }
}

#[tokio::test]
async fn n_deliveries_add_exactly_n_to_the_served_count_with_no_upstream_call() {
    let h = Harness::with(sandbox_config(), |c| {
        c.webhook_secret = WebhookSecret::new(SECRET);
        c.settings.refresh_budget = RefreshBudget::DEFAULT;
    })
    .await;
    let list = h.get("/chatbots?page=1&limit=20").await;
    assert_eq!(list.header("x-cache"), Some("miss"));
    let page = list.json();
    let bot = page["data"][2]["id"].as_str().unwrap().to_owned();
    let count = page["data"][2]["responseCount"].as_i64().unwrap();
    assert_eq!(h.get(format!("/chatbots/{bot}")).await.status, 200);
    let responses = format!("/chatbots/{bot}/responses?page=1&limit=20");
    assert_eq!(h.get(&responses).await.status, 200);
    let calls = h.stats().api_calls;

    const N: u32 = 7;
    let url = h.url(HOOK);
    for n in 0..N {
        let stamp = now();
        let body = documented("response.created", &bot, n, stamp);
        // Each delivery twice: a sender's retry of one that got through.
        for attempt in 0..2 {
            let (status, text) = post_signed(
                &h.client,
                &url,
                &body,
                SECRET,
                &conferbot::timestamp::format_iso8601_ms(stamp * 1_000),
                "response.created",
            )
            .await;
            assert_eq!(status, 200, "{text}");
            assert_eq!(text.contains("duplicate"), attempt == 1, "{text}");
        }
    }
    // Events that change no count.
    for event in [
        "conversation.started",
        "conversation.completed",
        "response.updated",
    ] {
        let stamp = now();
        let body = documented(event, &bot, 99, stamp);
        let (status, text) =
            post_signed(&h.client, &url, &body, SECRET, &stamp.to_string(), event).await;
        assert_eq!(status, 200, "{text}");
    }

    let after = h.get("/chatbots?page=1&limit=20").await;
    assert_eq!(after.header("x-cache"), Some("hit"), "patched, not dropped");
    let mut expected = page.clone();
    expected["data"][2]["responseCount"] = Value::from(count + i64::from(N));
    assert_eq!(
        after.json(),
        expected,
        "exactly N more, nothing else changed"
    );
    let one = h.get(format!("/chatbots/{bot}")).await;
    assert_eq!(one.header("x-cache"), Some("hit"));
    assert_eq!(one.json()["data"]["responseCount"], count + i64::from(N));
    assert_eq!(h.stats().api_calls, calls, "no upstream call for any of it");

    // Its responses pages are stale (the event carries no content); the
    // refresh budget paces their re-read (4 keys × 31 days / 1,000 calls is
    // about 3 hours): served at once from what is held, marked stale.
    for _ in 0..3 {
        let again = h.get(&responses).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.header("x-cache"), Some("stale"));
    }
    assert_eq!(h.stats().api_calls, calls, "no re-read within the interval");
    h.shutdown().await;
}
