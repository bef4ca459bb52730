//! Stale-while-revalidate: past `--cache-ttl`, answers are served at once,
//! marked stale with their `age`, and one background call refreshes them for
//! everyone; a change nothing announces shows after it.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::support::{sandbox_config, Harness};

/// Waits until the sandbox has counted `calls`, or 5 s.
pub async fn calls_reach(stats: impl Fn() -> u64, calls: u64) {
    for _ in 0..100 {
        if stats() >= calls {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn many_stale_hits_make_one_revalidation_call() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.cache_ttl = Duration::from_secs(1);
        c.settings.cache_stale = Duration::from_secs(3_600);
    })
    .await;
    let first = h.get("/webhooks").await;
    assert_eq!(first.header("x-cache"), Some("miss"));
    assert_eq!(first.json()["data"].as_array().unwrap().len(), 0);
    // A change the BFF is not told of: a webhook made in Conferbot directly.
    let made = h
        .client
        .post(format!("{}/external/v1/webhooks", h.sandbox.base_url()))
        .header("x-api-key", conferbot_sandbox::keys::STARTER)
        .header("content-type", "application/json")
        .body(
            json!({"url": "https://example.com/elsewhere", "events": ["response.created"]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    assert_eq!(h.get("/webhooks").await.header("x-cache"), Some("hit"));
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let before = h.stats().api_calls;
    let replies = join_all((0..50).map(|_| h.get("/webhooks"))).await;
    let mut by_cache: BTreeMap<String, usize> = BTreeMap::new();
    for reply in &replies {
        assert_eq!(reply.status, 200);
        *by_cache
            .entry(reply.header("x-cache").unwrap_or("none").to_owned())
            .or_default() += 1;
        if reply.header("x-cache") == Some("stale") {
            assert!(reply.header("age").unwrap().parse::<u64>().unwrap() >= 1);
        }
    }
    calls_reach(|| h.stats().api_calls, before + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("50 reads of a stale answer: x-cache {by_cache:?}");
    assert_eq!(
        by_cache.get("miss"),
        None,
        "nobody waited for the upstream: {by_cache:?}"
    );
    assert!(
        by_cache.get("stale").is_some_and(|n| *n >= 1),
        "{by_cache:?}"
    );
    assert_eq!(
        h.stats().api_calls,
        before + 1,
        "one call refreshed it for all"
    );

    let refreshed = h.get("/webhooks").await;
    assert_eq!(refreshed.header("x-cache"), Some("hit"));
    assert_eq!(refreshed.header("age"), Some("0"));
    assert_eq!(
        refreshed.json()["data"][0]["url"],
        "https://example.com/elsewhere"
    );
    h.shutdown().await;
}
