//! Attack: an upstream answer that repeats the key (or the webhook secret)
//! in a spelling the raw bytes do not show, but the browser's `JSON.parse`
//! (or its `atob`, or `decodeURIComponent`) turns back into the secret.
//! Every such answer is withheld; the same answers without the secret pass.

use conferbot_policy::refresh_budget::RefreshBudget;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use base64::Engine;
use conferbot_bff::{ApiKey, BffConfig, WebhookSecret};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::{fast_rate, localhost, start_bff, Reply, API, CSRF};

/// Keys that JSON encoders must (or like to) escape: a slash (PHP writes
/// `\/`), quotes and a backslash, plus an ordinary one.
const KEYS: [&str; 3] = [
    "sk/live/ECHO+canary=7Q",
    "pk_ECHO\"quote'back\\slash",
    "sk-live-ECHO-5e1f0c9a7b3d",
];
const SECRET: &str = "whsec_ECHO_0123456789abcdef";

/// Answers queued for the stand-in upstream: status and body, in order.
type Planned = Arc<Mutex<VecDeque<(u16, String)>>>;

async fn planned_upstream() -> (String, Planned) {
    let planned: Planned = Arc::default();
    let next = Arc::clone(&planned);
    let app = Router::new().fallback(move || {
        let next = Arc::clone(&next);
        async move {
            let (status, body) = next
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or((200, r#"{"data":[]}"#.to_owned()));
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                body,
            )
                .into_response()
        }
    });
    let listener = TcpListener::bind(localhost(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api/v1"), planned)
}

/// `text` as a JSON string's inside, every character `\uXXXX` (upper-case
/// hex when `upper`).
fn unicode_escaped(text: &str, upper: bool) -> String {
    text.chars()
        .map(|c| {
            let hex = format!("{:04x}", c as u32);
            format!("\\u{}", if upper { hex.to_uppercase() } else { hex })
        })
        .collect()
}

/// `text` as JSON writes it inside a string (quotes and backslashes
/// escaped), with `/` as `\/` the way PHP's `json_encode` writes it.
fn php_escaped(text: &str) -> String {
    let json = serde_json::to_string(text).unwrap();
    json[1..json.len() - 1].replace('/', "\\/")
}

/// Bodies that hold `secret`, each in another spelling, and the status
/// they come with.
fn echoes(secret: &str) -> Vec<(u16, String)> {
    let php = php_escaped(secret);
    let every_other: String = secret
        .chars()
        .enumerate()
        .map(|(i, c)| match i % 2 {
            0 => unicode_escaped(&c.to_string(), true),
            _ => php_escaped(&c.to_string()),
        })
        .collect();
    let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    let inner = json!({"echo": secret}).to_string();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("api:{secret}"));
    vec![
        (401, format!(r#"{{"error":"Invalid key {php}"}}"#)),
        (
            401,
            format!(
                r#"{{"error":"Unauthorized","message":"{}"}}"#,
                unicode_escaped(secret, false)
            ),
        ),
        (
            500,
            format!(r#"{{"error":"{}"}}"#, unicode_escaped(secret, true)),
        ),
        (200, format!(r#"{{"data":{{"note":"{every_other}"}}}}"#)),
        (
            200,
            format!(r#"{{"data":[{{"url":"https://x.example/cb?key={percent}"}}]}}"#),
        ),
        (
            400,
            json!({"error": "Bad request", "message": inner}).to_string(),
        ),
        (200, format!(r#"{{"data":{{"{php}":true}}}}"#)),
        (
            403,
            format!(r#"{{"error":"Forbidden","message":"Basic {basic}"}}"#),
        ),
    ]
}

#[tokio::test]
async fn answers_repeating_a_secret_in_any_spelling_are_withheld() {
    for key in KEYS {
        let (upstream, planned) = planned_upstream().await;
        let mut config = BffConfig::new(ApiKey::new(key).unwrap());
        config.settings.upstream = upstream;
        config.settings.rate = fast_rate();
        config.settings.cache_ttl = std::time::Duration::ZERO;
        config.settings.refresh_budget = RefreshBudget::Off; // calls are counted exactly
        config.webhook_secret = WebhookSecret::new(SECRET);
        let (addr, stop, task) = start_bff(config).await;
        let client = reqwest::Client::new();
        let usage = format!("http://{addr}{API}/usage");
        let mut cases = echoes(key);
        cases.extend(echoes(SECRET));
        for (status, body) in cases {
            planned.lock().unwrap().push_back((status, body.clone()));
            let reply = Reply::of(client.get(&usage).send().await.unwrap()).await;
            assert_eq!(reply.status, 502, "{body} passed: {}", reply.text);
            assert!(reply.text.contains("withheld"), "{}", reply.text);
            assert_secret_absent(&reply, key);
            assert_secret_absent(&reply, SECRET);
        }
        // The webhook secret in a created webhook's answer, escaped.
        planned.lock().unwrap().push_back((
            201,
            format!(
                r#"{{"data":{{"id":"64f8a2b3c1d4e5f6a7b8c9d0","secret":"{}"}}}}"#,
                unicode_escaped(SECRET, false)
            ),
        ));
        let created = client
            .post(format!("http://{addr}{API}/webhooks"))
            .header(CSRF.0, CSRF.1)
            .header("content-type", "application/json")
            .body(r#"{"url":"https://hooks.example.com/in","events":["response.created"]}"#)
            .send()
            .await
            .unwrap();
        let created = Reply::of(created).await;
        assert_eq!(created.status, 502, "{}", created.text);
        // Not vacuous: the same kinds of answers without a secret pass.
        for (status, body) in [
            (200, r#"{"data":{"note":"sk\/live\/other+key"}}"#),
            (401, r#"{"error":"Invalid or missing API key"}"#),
        ] {
            planned.lock().unwrap().push_back((status, body.to_owned()));
            let reply = Reply::of(client.get(&usage).send().await.unwrap()).await;
            assert_eq!(reply.status, status, "{}", reply.text);
        }
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();
    }
}

/// Neither the reply's bytes nor any string a client decodes from it
/// holds `secret`.
fn assert_secret_absent(reply: &Reply, secret: &str) {
    assert!(!reply.dump().contains(secret), "leaked: {}", reply.dump());
    let value: Value = serde_json::from_str(&reply.text).unwrap();
    let mut strings = vec![value];
    while let Some(value) = strings.pop() {
        match value {
            Value::String(text) => assert!(!text.contains(secret), "decodes to the secret: {text}"),
            Value::Array(items) => strings.extend(items),
            Value::Object(map) => {
                for (k, v) in map {
                    strings.push(Value::String(k));
                    strings.push(v);
                }
            }
            _ => {}
        }
    }
}
