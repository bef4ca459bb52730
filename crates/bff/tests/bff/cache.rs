//! Quota savings: coalescing, caching, and invalidation by writes.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn two_hundred_identical_gets_make_one_upstream_call() {
    let h = Harness::start().await;
    // The upstream is slow for this call, so that all 200 arrive while it is in flight.
    h.fault(json!({"kind": "delay", "count": 1, "delayMs": 1500}))
        .await;
    let replies = join_all((0..200).map(|_| h.get("/chatbots?page=1&limit=20"))).await;

    assert_eq!(h.stats().api_calls, 1, "coalescing failed");
    let mut by_cache: BTreeMap<String, usize> = BTreeMap::new();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.text, replies[0].text, "answers differ");
        *by_cache
            .entry(reply.header("x-cache").unwrap_or("none").to_owned())
            .or_default() += 1;
    }
    println!("200 identical GETs: x-cache {by_cache:?}, upstream calls 1");
    assert_eq!(by_cache.get("miss"), Some(&1), "{by_cache:?}");
    assert_eq!(
        by_cache.get("coalesced").unwrap_or(&0) + by_cache.get("hit").unwrap_or(&0),
        199,
        "{by_cache:?}"
    );
    assert!(by_cache.get("coalesced").unwrap_or(&0) > &0, "{by_cache:?}");

    // Within the TTL, a hit: still one upstream call.
    let again = h.get("/chatbots?limit=20").await;
    assert_eq!(again.header("x-cache"), Some("hit"));
    assert_eq!(again.text, replies[0].text);
    assert_eq!(h.stats().api_calls, 1);

    let metrics = h.client.get(h.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("conferbot_bff_cache_total{result=\"miss\"} 1"),
        "{metrics}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_write_invalidates_the_reads_it_changes() {
    let h = Harness::start().await;
    let before = h.get("/webhooks").await;
    assert_eq!(before.json()["data"].as_array().unwrap().len(), 0);
    assert_eq!(h.get("/webhooks").await.header("x-cache"), Some("hit"));
    let usage = h.get("/usage").await;
    assert_eq!(usage.status, 200);

    let created = h.post_webhook("https://example.com/fresh").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let after = h.get("/webhooks").await;
    assert_eq!(after.header("x-cache"), Some("miss"), "stale list served");
    let hooks = after.json();
    assert_eq!(hooks["data"].as_array().unwrap().len(), 1);
    assert_eq!(hooks["data"][0]["url"], "https://example.com/fresh");

    let id = hooks["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(h.delete(&format!("/webhooks/{id}")).await.status, 200);
    let emptied = h.get("/webhooks").await;
    assert_eq!(emptied.json()["data"].as_array().unwrap().len(), 0);

    // Unrelated reads stay cached; errors are never cached.
    assert_eq!(h.get("/usage").await.header("x-cache"), Some("hit"));
    let missing = "/chatbots/000000000000000000000000";
    assert_eq!(h.get(missing).await.status, 404);
    assert_eq!(h.get(missing).await.header("x-cache"), Some("miss"));
    h.shutdown().await;
}

#[tokio::test]
async fn a_zero_ttl_disables_the_cache() {
    let h = Harness::with(crate::support::sandbox_config(), |c| {
        c.settings.cache_ttl = std::time::Duration::ZERO;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(h.get("/usage").await.header("x-cache"), Some("miss"));
    }
    assert_eq!(h.stats().api_calls, 3);
    h.shutdown().await;
}
