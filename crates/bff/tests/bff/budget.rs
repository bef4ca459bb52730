//! The month's quota: `--monthly-budget` stops spending at its cap, an
//! exhausted month makes no call until the upstream's clock turns it (what
//! is held is served, marked stale), and every answer says what is left.

use std::time::Duration;

use conferbot_policy::quota::MonthlyBudget;
use conferbot_sandbox::keys;
use serde_json::{json, Value};

use crate::support::{sandbox_config, Harness};

async fn admin(h: &Harness, path: &str, body: Value) -> Value {
    let response = h
        .client
        .post(format!("{}{path}", h.sandbox.admin_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_budget_stops_spending_at_its_cap() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.monthly_budget = Some(MonthlyBudget::Calls(105));
    })
    .await;
    admin(&h, "/usage", json!({"apiKey": keys::STARTER, "used": 100})).await;
    let before = h.stats().api_calls;
    let mut served = Vec::new();
    for page in 1..=10 {
        served.push(h.get(format!("/chatbots?page={page}&limit=5")).await);
    }
    // One getUsage to learn the month (101), then pages until 105.
    let statuses: Vec<u16> = served.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    assert_eq!(h.stats().api_calls - before, 5, "the budget is a cap");
    let refused = &served[4];
    assert_eq!(refused.json()["error"], "Monthly API limit reached");
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("105 calls"));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(refused.header("x-quota-month-used"), Some("105"));
    assert_eq!(refused.header("x-quota-month-limit"), Some("10000"));
    assert_eq!(refused.header("x-quota-month-remaining"), Some("9895"));
    // What is held is still served; nothing more is spent.
    assert_eq!(h.get("/chatbots?page=1&limit=5").await.status, 200);
    assert_eq!(h.get("/usage").await.status, 200);
    assert_eq!(h.stats().api_calls - before, 5);
    assert_eq!(h.sandbox.stats().api_calls - before, 5);
    h.shutdown().await;
}

#[tokio::test]
async fn an_exhausted_month_makes_no_call_until_the_sandbox_turns_it() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.cache_ttl = Duration::from_secs(1);
    })
    .await;
    admin(&h, "/clock", json!({"now": "2031-01-31T23:59:56Z"})).await;
    assert_eq!(h.get("/chatbots").await.status, 200);
    let usage = h.get("/usage").await;
    assert_eq!(usage.json()["data"]["month"], "2031-01");
    assert_eq!(usage.header("x-quota-month-used"), Some("2"));
    admin(
        &h,
        "/usage",
        json!({"apiKey": keys::STARTER, "used": 10_000}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // The first call learns that the month is spent.
    let first = h.get("/webhooks").await;
    assert_eq!(first.status, 429);
    assert_eq!(first.json()["error"], "Monthly API limit reached");
    let wait: u64 = first.header("retry-after").unwrap().parse().unwrap();
    assert!(
        wait <= 4,
        "Retry-After reaches the sandbox's month turn: {wait}"
    );
    let calls = h.stats().api_calls;
    let until = tokio::time::Instant::now() + Duration::from_millis(wait * 1_000 - 700);
    let mut rounds = 0;
    while tokio::time::Instant::now() < until {
        let held = h.get("/chatbots").await;
        assert_eq!(held.status, 200, "what is held is served: {}", held.text);
        assert_eq!(held.header("x-cache"), Some("stale"));
        let refused = h.get("/webhooks").await;
        assert_eq!(refused.status, 429);
        assert_eq!(refused.header("x-quota-month-remaining"), Some("0"));
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rounds > 0);
    assert_eq!(
        h.stats().api_calls,
        calls,
        "no call the upstream would refuse"
    );

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let turned = h.get("/webhooks").await;
    assert_eq!(turned.status, 200, "{}", turned.text);
    assert_eq!(h.stats().api_calls, calls + 1);
    // A new month, counted from its first call.
    let reset = turned.header("x-quota-month-reset").unwrap();
    assert!(reset.starts_with("2031-03-01T00:00:00"), "{reset}");
    assert_eq!(turned.header("x-quota-month-remaining"), Some("9999"));
    h.shutdown().await;
}

#[tokio::test]
async fn every_answer_says_the_minute_and_the_month() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.allow_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let before = h.get("/chatbots").await;
    assert_eq!(before.header("x-quota-minute-limit"), Some("1000"));
    assert!(before.header("x-quota-minute-remaining").is_some());
    assert_eq!(
        before.header("x-quota-month-used"),
        None,
        "not known before getUsage"
    );
    let usage = h.get("/usage").await;
    let used = usage.json()["data"]["used"].as_u64().unwrap();
    assert_eq!(
        usage.header("x-quota-month-used"),
        Some(used.to_string().as_str())
    );
    assert_eq!(usage.header("x-quota-month-limit"), Some("10000"));
    let reset = usage.header("x-quota-month-reset").unwrap();
    assert!(reset.ends_with("-01T00:00:00.000Z"), "{reset}");
    // Own calls since are counted; errors say it too.
    let missing = h.get("/chatbots/000000000000000000000000").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("x-quota-month-used"),
        Some((used + 1).to_string().as_str())
    );
    let unknown = h.get("/nothing-here").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.header("x-quota-minute-limit").is_some());
    // Cross-origin pages may read them.
    let response = h
        .client
        .get(h.api("/usage"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for name in conferbot::protocol::bff::QUOTA_HEADERS
        .iter()
        .chain(&["age", "x-cache"])
    {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
    h.shutdown().await;
}
