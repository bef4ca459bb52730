//! Attack: replays. A delivery re-sent with its signature spelled otherwise
//! (`sha256=`, upper case) is the same delivery: answered "duplicate", not
//! applied twice. A signed body without a timestamp of its own, or an old
//! body under a fresh header, is refused.

use std::time::Duration;

use serde_json::json;

use crate::live::{delivery, now, SseClient, SECRET};
use crate::webhooks::{live_harness, EVENTS, HOOK};

/// POSTs `body` with `signature` exactly as given, and `x-webhook-timestamp: stamp`.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    signature: &str,
    stamp: &str,
) -> (u16, String) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-webhook-signature", signature)
        .header("x-webhook-timestamp", stamp)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_delivery_is_applied_once_whatever_its_signature_s_spelling() {
    let h = live_harness().await;
    let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
    let url = h.url(HOOK);
    let at = now();
    let stamp = at.to_string();
    let body = delivery(
        "response.created",
        at,
        json!({"botId": "64f8a2b3c1d4e5f6a7b8c9d0", "responseId": "65a1b2c3d4e5f6a7b8c9d0e1"}),
    );
    let hex = conferbot::sign_webhook_body(body.as_bytes(), SECRET.as_bytes());
    let (status, text) = post(&h.client, &url, &body, &hex, &stamp).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"id\""), "{text}");
    for spelling in [
        format!("sha256={hex}"),
        hex.to_uppercase(),
        format!("sha256={}", hex.to_uppercase()),
        format!(" {hex} "),
    ] {
        let (status, text) = post(&h.client, &url, &body, &spelling, &stamp).await;
        assert_eq!(status, 200, "{spelling}: {text}");
        assert!(text.contains("\"duplicate\":true"), "{spelling}: {text}");
    }
    let events = sse.drain_events(Duration::from_millis(700)).await;
    assert_eq!(events.len(), 1, "applied more than once: {events:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_body_without_its_own_signed_time_cannot_be_replayed() {
    let h = live_harness().await;
    let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
    let url = h.url(HOOK);
    // Signed, but undated: whatever header it comes with, it is refused.
    let undated =
        json!({"event": "response.created", "botId": "64f8a2b3c1d4e5f6a7b8c9d0"}).to_string();
    let signature = conferbot::sign_webhook_body(undated.as_bytes(), SECRET.as_bytes());
    let (status, text) = post(&h.client, &url, &undated, &signature, &now().to_string()).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("signed timestamp"), "{text}");
    // An old delivery under a fresh header: the signed time does not match.
    let old = now() - 3_600;
    let stale = delivery("response.created", old, json!({}));
    let signature = conferbot::sign_webhook_body(stale.as_bytes(), SECRET.as_bytes());
    let (status, text) = post(&h.client, &url, &stale, &signature, &now().to_string()).await;
    assert_eq!(status, 401, "{text}");
    // And with its own old header: outside the tolerance.
    let (status, text) = post(&h.client, &url, &stale, &signature, &old.to_string()).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("tolerance"), "{text}");
    assert!(sse
        .drain_events(Duration::from_millis(500))
        .await
        .is_empty());
    h.shutdown().await;
}
