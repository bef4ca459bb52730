//! Webhook registration, plan limits, and signed, retried deliveries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod common;

use axum::http::StatusCode;
use common::{config, start, Receiver};
use conferbot::{verify_webhook_signature, Chatbot, DataEnvelope, Page, WebhookDelivery};
use conferbot_sandbox::{keys, SandboxConfig};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn create_list_and_delete_within_the_workspace() {
    let h = start(config()).await;
    let created = h
        .create_webhook(
            keys::STARTER,
            "https://example.com/hook",
            &["response.created", "conversation.completed"],
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(conferbot::id::is_object_id(&id));
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["url"], "https://example.com/hook");
    assert_eq!(created["active"], true);

    let list = h.get(keys::STARTER, "/webhooks").await;
    assert_eq!(list.status, 200);
    let hooks = list.json["data"].as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["id"], id.as_str());
    assert!(
        hooks[0].get("secret").is_none(),
        "secrets are shown only on create"
    );
    assert_eq!(
        h.get(keys::PRO, "/webhooks").await.json,
        json!({"data": []})
    );

    let url = h.api(&format!("/webhooks/{id}"));
    let theirs = h.send(Method::DELETE, &url, Some(keys::PRO), None).await;
    assert_eq!(
        (theirs.status, theirs.json),
        (404, json!({"error": "Webhook not found"}))
    );
    let deleted = h
        .send(Method::DELETE, &url, Some(keys::STARTER), None)
        .await;
    assert_eq!(deleted.status, 200);
    let deleted: DataEnvelope<conferbot::DeletedWebhook> =
        serde_json::from_value(deleted.json).unwrap();
    assert_eq!(
        deleted.data,
        conferbot::DeletedWebhook {
            id: id.clone(),
            deleted: true
        }
    );
    let again = h
        .send(Method::DELETE, &url, Some(keys::STARTER), None)
        .await;
    assert_eq!(again.status, 404);
    let bad = h
        .send(
            Method::DELETE,
            &h.api("/webhooks/xyz"),
            Some(keys::STARTER),
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json["error"]
        .as_str()
        .unwrap()
        .contains("webhook id must be"));
}

#[tokio::test]
async fn bad_create_bodies_are_400s_that_say_why() {
    let h = start(config()).await;
    let post = |body: Option<Value>| {
        let h = &h;
        async move {
            h.send(Method::POST, &h.api("/webhooks"), Some(keys::STARTER), body)
                .await
        }
    };
    let empty = post(None).await;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.json["error"], "Missing required fields: url, events");
    let no_events = post(Some(json!({"url": "https://x.com"}))).await;
    assert_eq!(no_events.json["error"], "Missing required fields: events");
    let unknown = post(Some(
        json!({"url": "https://x.com", "events": ["bot.deleted"]}),
    ))
    .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.json["error"]
        .as_str()
        .unwrap()
        .contains("unknown webhook event \"bot.deleted\""));
    let ftp = post(Some(
        json!({"url": "ftp://x.com", "events": ["response.created"]}),
    ))
    .await;
    assert_eq!(ftp.status, 400);
    let wrong_type = post(Some(
        json!({"url": "https://x.com", "events": "response.created"}),
    ))
    .await;
    assert_eq!(wrong_type.status, 400);
    assert!(wrong_type.json["error"]
        .as_str()
        .unwrap()
        .starts_with("Invalid webhook"));
    let raw = h
        .client
        .post(h.api("/webhooks"))
        .header("x-api-key", keys::STARTER)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
}

#[tokio::test]
async fn one_webhook_past_the_plans_limit_is_a_403() {
    let h = start(config()).await;
    for i in 0..5 {
        h.create_webhook(
            keys::STARTER,
            &format!("https://example.com/{i}"),
            &["response.created"],
        )
        .await;
    }
    let refused = h
        .send(
            Method::POST,
            &h.api("/webhooks"),
            Some(keys::STARTER),
            Some(json!({"url": "https://example.com/6", "events": ["response.created"]})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let error = refused.json["error"].as_str().unwrap();
    assert!(error.contains("Starter plan allows 5 webhooks"), "{error}");
    // Pro's limit is its own.
    h.create_webhook(keys::PRO, "https://example.com/p", &["response.created"])
        .await;
}

#[tokio::test]
async fn a_new_response_is_stored_and_delivered_signed() {
    let h = start(config()).await;
    let receiver = Receiver::start(0, StatusCode::OK).await;
    let hook = h
        .create_webhook(keys::STARTER, &receiver.url(), &["response.created"])
        .await;
    let secret = hook["secret"].as_str().unwrap();
    let first: Page<Chatbot> =
        serde_json::from_value(h.get(keys::STARTER, "/chatbots?limit=1").await.json).unwrap();
    let bot = &first.data[0];

    let simulated = h.admin_post("/responses", json!({})).await;
    assert_eq!(simulated.status, 201, "{:?}", simulated.json);
    assert_eq!(simulated.json["deliveries"], 1);
    let response = &simulated.json["data"];
    assert_eq!(response["chatbotId"], bot.id.as_str());

    let received = receiver.wait_for(1).await;
    let delivery = &received[0];
    let header = |name: &str| delivery.headers.get(name).unwrap().to_str().unwrap();
    assert!(verify_webhook_signature(
        &delivery.body,
        header("x-webhook-signature"),
        secret.as_bytes()
    ));
    assert_eq!(header("x-webhook-event"), "response.created");
    assert_eq!(header("user-agent"), "Conferbot-Webhooks/1.0");
    assert_eq!(header("content-type"), "application/json");
    let stamp = header("x-webhook-timestamp");
    assert!(stamp.ends_with('Z'), "ISO 8601 as documented: {stamp}");
    let sent = conferbot::timestamp::parse_webhook_timestamp(stamp).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - sent).abs() < 60);
    // The documented flat body, its keys in the reference's order, ids only.
    let raw: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut documented = vec![
        "botId",
        "chatSessionId",
        "event",
        "responseId",
        "timestamp",
        "visitorId",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented, "{raw}");
    let text = std::str::from_utf8(&delivery.body).unwrap();
    assert!(
        text.starts_with(r#"{"event":"response.created","chatSessionId":"sess_"#),
        "{text}"
    );
    let body: WebhookDelivery = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body.event, conferbot::WebhookEvent::ResponseCreated);
    assert_eq!(body.timestamp.as_deref(), Some(stamp));
    assert_eq!(body.bot_id.as_deref(), Some(bot.id.as_str()));
    assert_eq!(
        body.response_id.as_ref(),
        response["id"].as_str().map(str::to_owned).as_ref()
    );
    assert!(body.visitor_id.as_deref().unwrap().starts_with("visitor_"));
    assert_eq!(&json!(body), &simulated.json["delivery"]);

    // The data changed as upstream's would.
    let after = h.get(keys::STARTER, &format!("/chatbots/{}", bot.id)).await;
    assert_eq!(after.json["data"]["responseCount"], bot.response_count + 1);
    assert_eq!(after.json["data"]["updatedAt"], response["createdAt"]);
    let newest = h
        .get(
            keys::STARTER,
            &format!("/chatbots/{}/responses?limit=1", bot.id),
        )
        .await;
    assert_eq!(&newest.json["data"][0], response);
    assert_eq!(newest.json["total"], bot.response_count + 1);

    let log = h.deliveries_until(|log| log.len() == 1).await;
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["delivered"], true);
}

#[tokio::test]
async fn a_fixed_secret_when_configured_and_flat_conversation_bodies() {
    let h = start(SandboxConfig {
        webhook_secret: Some("whsec_fixed".into()),
        ..config()
    })
    .await;
    let receiver = Receiver::start(0, StatusCode::OK).await;
    let hook = h
        .create_webhook(keys::PRO, &receiver.url(), &["conversation.started"])
        .await;
    assert_eq!(hook["secret"], "whsec_fixed");
    let simulated = h
        .admin_post(
            "/responses",
            json!({"apiKey": keys::PRO, "event": "conversation.started"}),
        )
        .await;
    assert_eq!(simulated.status, 200);
    assert_eq!(simulated.json["deliveries"], 1);
    let delivery = &receiver.wait_for(1).await[0];
    let header = |name: &str| delivery.headers.get(name).unwrap().to_str().unwrap();
    assert!(verify_webhook_signature(
        &delivery.body,
        header("x-webhook-signature"),
        b"whsec_fixed"
    ));
    assert_eq!(header("x-webhook-event"), "conversation.started");
    let stamp = header("x-webhook-timestamp");
    assert!(stamp.ends_with('Z'), "{stamp}");
    assert!(conferbot::timestamp::parse_webhook_timestamp(stamp).is_some());
    let body: WebhookDelivery = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body.event, conferbot::WebhookEvent::ConversationStarted);
    assert!(body
        .chat_session_id
        .as_deref()
        .unwrap()
        .starts_with("sess_"));
    assert!(body.visitor_id.as_deref().unwrap().starts_with("visitor_"));
    assert!(body.bot().is_some() && body.response_id.is_none());
}

#[tokio::test]
async fn the_admin_route_registers_a_receiver_with_its_own_secret() {
    let h = start(config()).await;
    let receiver = Receiver::start(0, StatusCode::OK).await;
    let registered = h
        .admin_post(
            "/webhooks",
            json!({"url": receiver.url(), "events": ["response.created"], "secret": "whsec_chosen"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.json);
    // One created through the API gets a secret of its own.
    let other = Receiver::start(0, StatusCode::OK).await;
    let created = h
        .create_webhook(keys::STARTER, &other.url(), &["response.created"])
        .await;
    assert_ne!(created["secret"], "whsec_chosen");
    let simulated = h.admin_post("/responses", json!({})).await;
    assert_eq!(simulated.json["deliveries"], 2);
    let delivery = &receiver.wait_for(1).await[0];
    let signature = delivery.headers["x-webhook-signature"].to_str().unwrap();
    assert!(verify_webhook_signature(
        &delivery.body,
        signature,
        b"whsec_chosen"
    ));
    let missing = h
        .admin_post(
            "/webhooks",
            json!({"url": receiver.url(), "events": ["response.created"]}),
        )
        .await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn only_subscribed_webhooks_of_the_workspace_are_called() {
    let h = start(config()).await;
    let receiver = Receiver::start(0, StatusCode::OK).await;
    h.create_webhook(keys::STARTER, &receiver.url(), &["conversation.completed"])
        .await;
    h.create_webhook(keys::PRO, &receiver.url(), &["response.created"])
        .await;
    let none = h
        .admin_post("/responses", json!({"apiKey": keys::STARTER}))
        .await;
    assert_eq!(none.json["deliveries"], 0);
    let one = h
        .admin_post("/responses", json!({"event": "conversation.completed"}))
        .await;
    assert_eq!(one.json["deliveries"], 1);
    assert_eq!(
        receiver.wait_for(1).await[0].headers["x-webhook-event"],
        "conversation.completed"
    );
    let bad = h
        .admin_post("/responses", json!({"event": "bot.deleted"}))
        .await;
    assert_eq!(bad.status, 400);
    let missing = h
        .admin_post(
            "/responses",
            json!({"chatbotId": "000000000000000000000000"}),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_succeeds() {
    let h = start(config()).await;
    let receiver = Receiver::start(2, StatusCode::INTERNAL_SERVER_ERROR).await;
    h.create_webhook(keys::STARTER, &receiver.url(), &["response.created"])
        .await;
    h.admin_post("/responses", json!({})).await;
    let log = h
        .deliveries_until(|log| log.iter().any(|a| a["delivered"] == true))
        .await;
    let attempts: Vec<(u64, u64)> = log
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, 500), (2, 500), (3, 200)]);
    // Every attempt is the same signed body.
    let received = receiver.wait_for(3).await;
    assert!(received.windows(2).all(|w| w[0].body == w[1].body));
}

#[tokio::test]
async fn an_always_failing_receiver_gets_one_try_and_three_retries() {
    let h = start(config()).await;
    let receiver = Receiver::start(usize::MAX, StatusCode::SERVICE_UNAVAILABLE).await;
    h.create_webhook(keys::STARTER, &receiver.url(), &["response.created"])
        .await;
    // Nothing listens on this one: connection errors are retried as well.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    h.create_webhook(keys::STARTER, &dead, &["response.created"])
        .await;

    h.admin_post("/responses", json!({})).await;
    h.deliveries_until(|log| log.len() == 8).await;
    // Backoff 50, 100, 200 ms: wait well past a fifth attempt's time.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let log = h.admin_get("/deliveries").await.json["data"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(log.len(), 8);
    assert_eq!(receiver.count(), 4);
    for url in [receiver.url(), dead] {
        let mine: Vec<&Value> = log.iter().filter(|a| a["url"] == url.as_str()).collect();
        let numbers: Vec<u64> = mine
            .iter()
            .map(|a| a["attempt"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, [1, 2, 3, 4], "{url}");
        assert!(mine.iter().all(|a| a["delivered"] == false));
    }
    assert!(log
        .iter()
        .filter(|a| a["status"].is_null())
        .all(|a| a["error"].is_string()));
}

#[tokio::test]
async fn an_update_names_the_session_of_the_response_it_changes() {
    let h = start(config()).await;
    let receiver = Receiver::start(0, StatusCode::OK).await;
    h.create_webhook(
        keys::STARTER,
        &receiver.url(),
        &["response.created", "response.updated"],
    )
    .await;
    let created = h.admin_post("/responses", json!({})).await;
    let updated = h
        .admin_post("/responses", json!({"event": "response.updated"}))
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.json);
    let (a, b) = (&created.json["delivery"], &updated.json["delivery"]);
    assert_eq!(b["event"], "response.updated");
    assert_eq!(a["responseId"], b["responseId"]);
    assert_eq!(a["chatSessionId"], b["chatSessionId"]);
    assert!(
        b.get("visitorId").is_none(),
        "as the reference's example: {b}"
    );
    let received = receiver.wait_for(2).await;
    let bodies: Vec<serde_json::Value> = received
        .iter()
        .map(|d| serde_json::from_slice(&d.body).unwrap())
        .collect();
    assert!(bodies.contains(a) && bodies.contains(b), "{bodies:?}");
}
