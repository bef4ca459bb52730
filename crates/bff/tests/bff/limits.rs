//! Body limit, upstream down, upstream slow, upstream misbehaving: each an
//! answer in the API's error format.

use std::time::Duration;

use conferbot_bff::{ApiKey, BffConfig};
use serde_json::json;

use crate::support::{localhost, sandbox_config, start_bff, Harness, Reply, CSRF};

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let h = Harness::start().await;
    let url = format!("https://example.com/{}", "a".repeat(64 * 1024));
    let body = json!({"url": url, "events": ["response.created"]}).to_string();
    assert!(body.len() > 64 * 1024);
    let response = h
        .client
        .post(h.api("/webhooks"))
        .header(CSRF.0, CSRF.1)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let reply = Reply::of(response).await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.json()["error"], "Payload too large");
    assert_eq!(h.stats().api_calls, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_502() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind(localhost(0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = BffConfig::new(ApiKey::new("sk-unreachable").unwrap());
    config.settings.upstream = format!("http://127.0.0.1:{port}/api/v1");
    let (addr, stop, task) = start_bff(config).await;
    let response = reqwest::get(format!("http://{addr}/api/conferbot/external/v1/usage"))
        .await
        .unwrap();
    let reply = Reply::of(response).await;
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(reply.json()["error"], "Bad gateway");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_slow_upstream_is_504() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.upstream_timeout = Duration::from_millis(300);
    })
    .await;
    h.fault(json!({"kind": "delay", "count": 1, "delayMs": 1500}))
        .await;
    let reply = h.get("/usage").await;
    assert_eq!(reply.status, 504, "{}", reply.text);
    assert_eq!(reply.json()["error"], "Gateway timeout");
    // The timeout was not cached: the next call goes through.
    assert_eq!(h.get("/usage").await.status, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn upstream_failures_come_back_in_the_api_format() {
    let h = Harness::start().await;
    h.fault(json!({"kind": "status500", "count": 1})).await;
    let reply = h.get("/usage").await;
    assert_eq!(reply.status, 500, "{}", reply.text);
    assert!(reply.json()["error"].is_string());

    for kind in ["nonJson", "truncated", "drop"] {
        h.fault(json!({"kind": kind, "count": 1})).await;
        let reply = h.get("/usage").await;
        assert_eq!(reply.status, 502, "{kind}: {}", reply.text);
        assert_eq!(reply.json()["error"], "Bad gateway", "{kind}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
    assert_eq!(h.get("/usage").await.status, 200);
    h.shutdown().await;
}
