//! Each fault kind, as a client sees it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{config, start};
use conferbot_sandbox::{keys, FaultKind, FaultSpec, SandboxConfig};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn status500_then_normal_answers() {
    let h = start(config()).await;
    let armed = h
        .admin_post("/faults", json!({"kind": "status500", "count": 2}))
        .await;
    assert_eq!(armed.status, 201);
    for _ in 0..2 {
        let failed = h.get(keys::STARTER, "/chatbots").await;
        assert_eq!(failed.status, 500);
        assert_eq!(failed.json, json!({"error": "Internal server error"}));
    }
    assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 200);
    h.admin_post("/faults", json!({"kind": "status500", "status": 503}))
        .await;
    assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 503);
    assert_eq!(h.sandbox.stats().by_status.get(&500), Some(&2));
}

#[tokio::test]
async fn non_json_is_an_html_page() {
    let h = start(config()).await;
    h.admin_post("/faults", json!({"kind": "nonJson"})).await;
    let page = h.get(keys::STARTER, "/usage").await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(serde_json::from_slice::<serde_json::Value>(&page.raw).is_err());
}

#[tokio::test]
async fn truncated_is_half_the_real_answer_with_a_matching_length() {
    let h = start(config()).await;
    h.admin_post("/faults", json!({"kind": "truncated"})).await;
    let cut = h.get(keys::STARTER, "/chatbots").await;
    let whole = h.get(keys::STARTER, "/chatbots").await;
    assert_eq!(cut.status, 200);
    // The body arrived completely (no transport error), and is not JSON.
    assert_eq!(
        cut.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        cut.raw.len()
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.raw).is_err());
    assert_eq!(cut.raw.len(), whole.raw.len() / 2);
    assert_eq!(cut.raw, whole.raw[..cut.raw.len()]);
}

#[tokio::test]
async fn delay_answers_normally_after_the_pause() {
    let h = start(config()).await;
    h.admin_post("/faults", json!({"kind": "delay", "delayMs": 300}))
        .await;
    let started = Instant::now();
    let slow = h.get(keys::STARTER, "/usage").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(slow.status, 200);
    assert_eq!(slow.json["data"]["plan"], "Starter");
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let h = start(config()).await;
    h.admin_post("/faults", json!({"kind": "drop"})).await;
    let err = h
        .try_send(Method::GET, &h.api("/chatbots"), Some(keys::STARTER), None)
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 200);
    let stats = h.sandbox.stats();
    assert_eq!((stats.api_calls, stats.dropped), (2, 1));

    // On the wire: not a single byte comes back.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    h.admin_post("/faults", json!({"kind": "drop"})).await;
    let mut socket = tokio::net::TcpStream::connect(h.sandbox.addr())
        .await
        .unwrap();
    let request = format!(
        "GET /api/v1/external/v1/usage HTTP/1.1\r\nhost: x\r\nx-api-key: {}\r\n\r\n",
        keys::STARTER
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // EOF or a reset: either way closed, with nothing read.
    let _ = socket.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
}

#[tokio::test]
async fn faults_are_listed_cleared_and_checked() {
    let h = start(config()).await;
    h.admin_post("/faults", json!({"kind": "drop", "count": 5}))
        .await;
    let listed = h.admin_get("/faults").await;
    assert_eq!(listed.json["data"][0]["kind"], "drop");
    assert_eq!(listed.json["data"][0]["count"], 5);
    let cleared = h
        .send(Method::DELETE, &h.admin("/faults"), None, None)
        .await;
    assert_eq!(cleared.status, 200);
    assert_eq!(h.get(keys::STARTER, "/chatbots").await.status, 200);
    for bad in [
        json!({"kind": "explode"}),
        json!({"count": 1}),
        json!({"kind": "status500", "status": 200}),
    ] {
        assert_eq!(
            h.admin_post("/faults", bad.clone()).await.status,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn faults_from_the_config_hit_the_first_calls() {
    let h = start(SandboxConfig {
        faults: vec![FaultSpec::new(FaultKind::Status500, 1)],
        ..config()
    })
    .await;
    assert_eq!(h.get(keys::STARTER, "/usage").await.status, 500);
    assert_eq!(h.get(keys::STARTER, "/usage").await.status, 200);
}
