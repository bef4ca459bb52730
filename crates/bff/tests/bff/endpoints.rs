//! Every operation of the endpoint table, through the BFF.

use crate::support::Harness;

#[tokio::test]
async fn every_endpoint_answers_through_the_bff() {
    let h = Harness::start().await;

    let list = h.get("/chatbots?page=2&limit=5").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let body = list.json();
    assert_eq!(body["data"].as_array().unwrap().len(), 5);
    assert_eq!(body["page"], 2);
    assert_eq!(body["total"], 137);
    assert_eq!(list.header("content-type"), Some("application/json"));
    assert_eq!(list.header("x-cache"), Some("miss"));

    let first = h.get("/chatbots").await.json();
    assert_eq!(first["data"].as_array().unwrap().len(), 20, "default limit");
    let bot = first["data"][0]["id"].as_str().unwrap().to_owned();

    let one = h.get(&format!("/chatbots/{bot}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json()["data"]["id"], bot.as_str());

    let responses = h.get(&format!("/chatbots/{bot}/responses?limit=3")).await;
    assert_eq!(responses.status, 200, "{}", responses.text);
    assert!(responses.json()["data"].as_array().unwrap().len() <= 3);

    let usage = h.get("/usage").await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    assert_eq!(usage.json()["data"]["plan"], "Starter");

    let hooks = h.get("/webhooks").await;
    assert_eq!(hooks.status, 200, "{}", hooks.text);
    assert_eq!(hooks.json()["data"].as_array().unwrap().len(), 0);

    let created = h.post_webhook("https://example.com/hooks/in").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let hook = created.json()["data"]["id"].as_str().unwrap().to_owned();

    let deleted = h.delete(&format!("/webhooks/{hook}")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.json()["data"]["deleted"], true);

    // The upstream's own errors come back with their status and JSON body.
    let missing = h.get("/chatbots/000000000000000000000000").await;
    assert_eq!(missing.status, 404, "{}", missing.text);
    assert!(missing.json()["error"].is_string());
    let gone = h.delete(&format!("/webhooks/{hook}")).await;
    assert_eq!(gone.status, 404, "{}", gone.text);

    let health = h.client.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = h.client.get(h.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("conferbot_bff_requests_total{route=\"createWebhook\",status=\"201\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("conferbot_bff_upstream_latency_seconds_count"));
    h.shutdown().await;
}

#[tokio::test]
async fn queries_are_revalidated_and_reencoded_canonically() {
    let h = Harness::start().await;
    for bad in [
        "?limit=101",
        "?page=0",
        "?page=abc",
        "?page=1&page=2",
        "?limit=%32",
    ] {
        let reply = h.get(&format!("/chatbots{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
        assert!(reply.json()["message"].is_string(), "{}", reply.text);
    }
    assert_eq!(h.stats().api_calls, 0, "bad queries reached the upstream");
    let odd = h
        .get("/chatbots?limit=3&utm_source=x&page=1&__proto__=1")
        .await;
    assert_eq!(odd.status, 200, "{}", odd.text);
    // Same canonical query, so the same cache entry.
    let same = h.get("/chatbots?page=1&limit=3").await;
    assert_eq!(same.header("x-cache"), Some("hit"));
    // A non-paginated operation ignores the query entirely.
    let usage = h.get("/usage?page=99999999999&x=1").await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    h.shutdown().await;
}
