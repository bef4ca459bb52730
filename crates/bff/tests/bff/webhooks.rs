//! The webhook receiver: what it accepts, what it refuses and with which
//! status, and that accepted deliveries reach SSE clients exactly once.

use std::time::Duration;

use conferbot_bff::WebhookSecret;
use serde_json::json;

use crate::live::{delivery, now, post_signed, SseClient, SECRET};
use crate::support::{sandbox_config, Harness};

pub const HOOK: &str = "/api/conferbot/webhooks/incoming";
pub const EVENTS: &str = "/api/conferbot/events";
const WAIT: Duration = Duration::from_secs(10);

pub async fn live_harness() -> Harness {
    Harness::with(sandbox_config(), |c| {
        c.webhook_secret = WebhookSecret::new(SECRET);
    })
    .await
}

#[tokio::test]
async fn valid_deliveries_in_both_timestamp_styles_reach_sse_exactly_once() {
    let h = live_harness().await;
    let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
    assert_eq!(sse.status, 200);
    assert!(sse.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let first = sse.next_message(WAIT).await.unwrap();
    assert_eq!(
        first.retry,
        Some(3000),
        "a retry hint comes first: {first:?}"
    );

    let unix = now();
    let body = delivery(
        "response.created",
        unix,
        json!({"botId": "64f8a2b3c1d4e5f6a7b8c9d0", "n": 1}),
    );
    let (status, text) = post_signed(
        &h.client,
        &h.url(HOOK),
        &body,
        SECRET,
        &unix.to_string(),
        "response.created",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let iso = conferbot::timestamp::format_iso8601_ms(unix * 1000);
    let body = delivery(
        "conversation.started",
        unix,
        json!({"chatSessionId": "sess_c1", "botId": "64f8a2b3c1d4e5f6a7b8c9d0"}),
    );
    let (status, text) = post_signed(
        &h.client,
        &h.url(HOOK),
        &body,
        SECRET,
        &iso,
        "conversation.started",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    // A sender's retry of the same delivery: answered 200, not sent twice.
    let (status, text) = post_signed(
        &h.client,
        &h.url(HOOK),
        &body,
        SECRET,
        &iso,
        "conversation.started",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"duplicate\":true"), "{text}");

    let events = sse.drain_events(Duration::from_millis(700)).await;
    let names: Vec<_> = events
        .iter()
        .map(|e| e.event.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        vec!["response.created", "conversation.started"],
        "{events:?}"
    );
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids[1], ids[0] + 1);
    let data: serde_json::Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(data["event"], "response.created");
    assert_eq!(data["n"], 1);
    assert_eq!(
        data["timestamp"],
        conferbot::timestamp::format_iso8601_ms(unix * 1000)
    );
    assert_eq!(data["botId"], "64f8a2b3c1d4e5f6a7b8c9d0");

    let metrics = h
        .client
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "conferbot_bff_webhooks_received_total 3",
        "conferbot_bff_webhooks_accepted_total{event=\"response.created\"} 1",
        "conferbot_bff_webhooks_duplicate_total 1",
        "conferbot_bff_sse_clients 1",
        "conferbot_bff_sse_events_sent_total 2",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing in\n{metrics}"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn bad_deliveries_are_refused_and_never_streamed() {
    let h = live_harness().await;
    let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
    let url = h.url(HOOK);
    let stamp = now().to_string();
    let good = delivery("response.created", now(), json!({}));
    let post = |body: String, secret: &'static str, stamp: String, event: &'static str| {
        let (client, url) = (h.client.clone(), url.clone());
        async move { post_signed(&client, &url, &body, secret, &stamp, event).await }
    };

    let (status, text) = post(
        good.clone(),
        "whsec_wrong",
        stamp.clone(),
        "response.created",
    )
    .await;
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("\"error\":\"Invalid webhook signature\""),
        "{text}"
    );

    let old = now() - 301;
    let stale = delivery("response.created", old, json!({}));
    let (status, text) = post(stale, SECRET, old.to_string(), "response.created").await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("tolerance"), "{text}");

    let unknown = delivery("bot.deleted", now(), json!({}));
    let (status, text) = post(unknown, SECRET, stamp.clone(), "bot.deleted").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("unknown webhook event"), "{text}");

    let huge = delivery(
        "response.created",
        now(),
        json!({"pad": "x".repeat(70 * 1024)}),
    );
    let (status, text) = post(huge, SECRET, stamp.clone(), "response.created").await;
    assert_eq!(status, 413, "{text}");

    // Missing headers: no signature, then no timestamp.
    let bare = h.client.post(&url).body(good.clone()).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    let signature = conferbot::sign_webhook_body(good.as_bytes(), SECRET.as_bytes());
    let undated = h
        .client
        .post(&url)
        .header("x-webhook-signature", signature)
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(undated.status(), 401);
    assert!(undated
        .text()
        .await
        .unwrap()
        .contains("x-webhook-timestamp"));

    let get = h.client.get(&url).send().await.unwrap();
    assert_eq!(get.status(), 405);

    // Nothing above reached the stream; the next good one is the first event.
    let (status, text) = post(good, SECRET, stamp, "response.created").await;
    assert_eq!(status, 200, "{text}");
    let events = sse.drain_events(Duration::from_millis(700)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(h.stats().api_calls, 0, "a delivery reached the upstream");

    let metrics = h
        .client
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in [
        "signature",
        "stale",
        "unknown_event",
        "too_large",
        "timestamp",
    ] {
        let line = format!("conferbot_bff_webhooks_rejected_total{{reason=\"{reason}\"}}");
        assert!(metrics.contains(&line), "{line} missing in\n{metrics}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn without_a_secret_the_receiver_refuses_every_delivery() {
    let h = Harness::start().await;
    let body = delivery("response.created", now(), json!({}));
    let (status, text) = post_signed(
        &h.client,
        &h.url(HOOK),
        &body,
        SECRET,
        &now().to_string(),
        "response.created",
    )
    .await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("CONFERBOT_WEBHOOK_SECRET"), "{text}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_gets_what_it_missed() {
    let h = live_harness().await;
    let url = h.url(HOOK);
    let send = |n: u32| {
        let (client, url) = (h.client.clone(), url.clone());
        async move {
            let body = delivery("response.updated", now(), json!({"n": n}));
            let (status, text) = post_signed(
                &client,
                &url,
                &body,
                SECRET,
                &now().to_string(),
                "response.updated",
            )
            .await;
            assert_eq!(status, 200, "{text}");
        }
    };
    let mut first = SseClient::connect(&h.url(EVENTS), None).await;
    send(1).await;
    send(2).await;
    let seen = first.drain_events(Duration::from_millis(500)).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let last = seen[1].id.clone().unwrap();
    drop(first);

    // While away, three more.
    for n in 3..=5 {
        send(n).await;
    }
    let mut back = SseClient::connect(&h.url(EVENTS), Some(&last)).await;
    send(6).await;
    let missed = back.drain_events(Duration::from_millis(500)).await;
    let numbers: Vec<i64> = missed
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers, vec![3, 4, 5, 6]);
    h.shutdown().await;
}

#[tokio::test]
async fn a_last_event_id_older_than_the_replay_buffer_gets_a_resync() {
    let h = Harness::with(sandbox_config(), |c| {
        c.webhook_secret = WebhookSecret::new(SECRET);
        c.settings.event_replay = 2;
    })
    .await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let body = delivery("response.updated", now(), json!({"n": n}));
        let (status, text) = post_signed(
            &h.client,
            &h.url(HOOK),
            &body,
            SECRET,
            &now().to_string(),
            "response.updated",
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
        ids.push(reply["data"]["id"].as_u64().unwrap());
    }
    let mut sse = SseClient::connect(&h.url(EVENTS), Some(&ids[0].to_string())).await;
    let events = sse.drain_events(Duration::from_millis(500)).await;
    let names: Vec<_> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(
        names,
        vec!["resync", "response.updated", "response.updated"],
        "{events:?}"
    );
    assert_eq!(events[2].id.as_deref(), Some(ids[3].to_string().as_str()));
    h.shutdown().await;
}

#[tokio::test]
async fn idle_streams_get_heartbeats_and_shutdown_ends_them() {
    let mut h = Harness::with(sandbox_config(), |c| {
        c.webhook_secret = WebhookSecret::new(SECRET);
        c.settings.sse_heartbeat = Duration::from_millis(100);
    })
    .await;
    let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
    let _retry = sse.next_message(WAIT).await.unwrap();
    let beat = sse.next_message(WAIT).await.unwrap();
    assert_eq!(beat.comments, vec!["keepalive"], "{beat:?}");
    let server = h.begin_shutdown();
    tokio::time::timeout(WAIT, server)
        .await
        .expect("shutdown waited for the stream")
        .unwrap()
        .unwrap();
    assert!(sse.drain_events(Duration::from_secs(2)).await.is_empty());
}
