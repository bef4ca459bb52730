//! The per-key sliding window and the monthly quota.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{config, start};
use conferbot::RateSpec;
use conferbot_sandbox::{keys, SandboxConfig};
use serde_json::json;

fn rated(max: u32, window_ms: u64) -> SandboxConfig {
    SandboxConfig {
        rate: RateSpec {
            max,
            window: Duration::from_millis(window_ms),
        },
        ..config()
    }
}

#[tokio::test]
async fn the_default_rate_answers_the_guides_exact_429() {
    let h = start(SandboxConfig::default()).await;
    for i in 0..60 {
        assert_eq!(h.get(keys::PRO, "/usage").await.status, 200, "call {i}");
    }
    let refused = h.get(keys::PRO, "/usage").await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.json,
        json!({"error": "Rate limit exceeded", "message": "You exceeded 60 requests in 1 minute."})
    );
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    // Per key: another workspace is not affected.
    assert_eq!(h.get(keys::BUSINESS, "/usage").await.status, 200);
    let stats = h.sandbox.stats();
    assert_eq!(
        (stats.rate_limited, stats.by_status.get(&429)),
        (1, Some(&1))
    );
}

#[tokio::test]
async fn the_window_refuses_the_sixth_call_then_admits_again() {
    let h = start(rated(5, 1_000)).await;
    for _ in 0..5 {
        assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 200);
    }
    let refused = h.get(keys::STARTER, "/chatbots").await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.json,
        json!({"error": "Rate limit exceeded", "message": "You exceeded 5 requests in 1 second."})
    );
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry_after, 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 200);
}

#[tokio::test]
async fn the_window_slides_instead_of_resetting() {
    // 4 per 2 s: two calls at t0, two at t0+1s. A fixed 2 s window would
    // admit four fresh calls at t0+2.1s; the sliding one admits only the two
    // whose predecessors have left.
    let h = start(rated(4, 2_000)).await;
    let status = || async { h.get(keys::STARTER, "/usage").await.status };
    assert_eq!((status().await, status().await), (200, 200));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!((status().await, status().await), (200, 200));
    assert_eq!(status().await, 429);
    tokio::time::sleep(Duration::from_millis(1_150)).await;
    assert_eq!((status().await, status().await), (200, 200));
    assert_eq!(status().await, 429);
}

#[tokio::test]
async fn refused_calls_do_not_count_toward_the_month() {
    let h = start(rated(2, 500)).await;
    for _ in 0..5 {
        h.get(keys::STARTER, "/chatbots").await;
    }
    assert_eq!(h.sandbox.stats().rate_limited, 3);
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Two admitted calls, plus this one.
    assert_eq!(h.get(keys::STARTER, "/usage").await.json["data"]["used"], 3);
}

#[tokio::test]
async fn an_exhausted_month_is_a_429_of_its_own() {
    let h = start(config()).await;
    let set = h
        .admin_post("/usage", json!({"apiKey": keys::STARTER, "used": 9_999}))
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(set.json["data"]["remaining"], 1);
    let last = h.get(keys::STARTER, "/usage").await;
    assert_eq!(last.status, 200);
    assert_eq!(last.json["data"]["used"], 10_000);
    assert_eq!(last.json["data"]["remaining"], 0);
    let refused = h.get(keys::STARTER, "/chatbots").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json["error"], "Monthly API limit reached");
    let message = refused.json["message"].as_str().unwrap();
    assert!(
        message.contains("Starter") && message.contains("10000"),
        "{message}"
    );
    assert!(
        refused
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Enterprise has no monthly limit.
    h.admin_post(
        "/usage",
        json!({"apiKey": keys::ENTERPRISE, "used": 5_000_000}),
    )
    .await;
    assert_eq!(h.get(keys::ENTERPRISE, "/chatbots").await.status, 200);
    // The admin route checks its input.
    let bad = h
        .admin_post("/usage", json!({"apiKey": "nope", "used": 1}))
        .await;
    assert_eq!(bad.status, 400);
    let missing = h.admin_post("/usage", json!({"used": 1})).await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn the_clock_moves_so_a_spent_month_turns_in_seconds() {
    let h = start(config()).await;
    let moved = h
        .admin_post("/clock", json!({"now": "2031-01-31T23:59:58Z"}))
        .await;
    assert_eq!(moved.status, 200);
    assert!(moved.json["data"]["now"]
        .as_str()
        .unwrap()
        .starts_with("2031-01-31T23:59:5"));
    h.admin_post("/usage", json!({"apiKey": keys::STARTER, "used": 10_000}))
        .await;
    let refused = h.get(keys::STARTER, "/usage").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json["error"], "Monthly API limit reached");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=2).contains(&wait),
        "Retry-After reaches the month's turn: {wait}"
    );
    let date = refused.header("date").unwrap();
    assert!(date.starts_with("Fri, 31 Jan 2031 23:59:5"), "{date}");

    tokio::time::sleep(Duration::from_millis(wait * 1_000 + 200)).await;
    let turned = h.get(keys::STARTER, "/usage").await;
    assert_eq!(turned.status, 200, "{:?}", turned.json);
    assert_eq!(turned.json["data"]["month"], "2031-02");
    assert_eq!(turned.json["data"]["used"], 1);

    assert_eq!(
        h.admin_get("/clock").await.json["data"]["offsetMs"]
            .as_i64()
            .map(|o| o > 0),
        Some(true)
    );
    assert_eq!(
        h.admin_post("/clock", json!({"offsetMs": 0})).await.json["data"]["offsetMs"],
        0
    );
    assert_eq!(
        h.admin_post("/clock", json!({"now": "soon"})).await.status,
        400
    );
    assert_eq!(h.admin_post("/clock", json!({})).await.status, 400);
}
