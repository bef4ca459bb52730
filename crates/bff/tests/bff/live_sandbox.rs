//! End to end: the sandbox's signed deliveries reach the BFF, drop the
//! cached reads they change, and reach SSE clients.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use conferbot_bff::WebhookSecret;
use conferbot_sandbox::SandboxConfig;
use serde_json::{json, Value};

use crate::live::{SseClient, SECRET};
use crate::support::{fast_rate, Harness};
use crate::webhooks::{EVENTS, HOOK};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_sandbox_response_reaches_sse_and_the_cached_counts_are_patched() {
    {
        let sandbox = SandboxConfig {
            rate: fast_rate(),
            ..SandboxConfig::default()
        };
        let h = Harness::with(sandbox, |c| c.webhook_secret = WebhookSecret::new(SECRET)).await;
        // The receiver is registered with its secret as an operator does in
        // Conferbot's dashboard (through the API the answer would carry the
        // secret, and the BFF withholds it).
        let hook = json!({"url": h.url(HOOK), "events": ["response.created"], "secret": SECRET});
        let created = h
            .client
            .post(format!("{}/webhooks", h.sandbox.admin_url()))
            .header("content-type", "application/json")
            .body(hook.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);

        let list = h.get("/chatbots").await;
        assert_eq!(list.header("x-cache"), Some("miss"));
        assert_eq!(h.get("/chatbots").await.header("x-cache"), Some("hit"));
        let bot = list.json()["data"][0].clone();
        let id = bot["id"].as_str().unwrap().to_owned();
        let count = bot["responseCount"].as_i64().unwrap();
        let one = h.get(format!("/chatbots/{id}")).await;
        assert_eq!(
            h.get(format!("/chatbots/{id}")).await.header("x-cache"),
            Some("hit")
        );
        assert_eq!(one.json()["data"]["responseCount"], count);
        let usage = h.get("/usage").await;
        assert_eq!(usage.status, 200);

        let mut sse = SseClient::connect(&h.url(EVENTS), None).await;
        let simulated = h
            .client
            .post(format!("{}/responses", h.sandbox.admin_url()))
            .header("content-type", "application/json")
            .body(json!({"chatbotId": id}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(simulated.status(), 201);

        let event = sse
            .next_event(WAIT)
            .await
            .expect("no event reached the stream");
        assert_eq!(event.event.as_deref(), Some("response.created"));
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            data["botId"],
            id.as_str(),
            "the documented flat body: {data}"
        );
        for field in ["responseId", "chatSessionId", "visitorId", "timestamp"] {
            assert!(data[field].is_string(), "{field} missing: {data}");
        }
        assert!(
            sse.drain_events(Duration::from_millis(500))
                .await
                .is_empty(),
            "sent twice"
        );

        // The event was applied to the cached answers: no upstream call.
        let calls = h.stats().api_calls;
        let patched = h.get("/chatbots").await;
        assert_eq!(patched.header("x-cache"), Some("hit"), "patched in place");
        assert_eq!(patched.json()["data"][0]["responseCount"], count + 1);
        let patched = h.get(format!("/chatbots/{id}")).await;
        assert_eq!(patched.header("x-cache"), Some("hit"));
        assert_eq!(patched.json()["data"]["responseCount"], count + 1);
        assert_eq!(
            h.stats().api_calls,
            calls,
            "no upstream call for the new count"
        );
        // The sandbox agrees.
        let truth = h.get(format!("/chatbots/{id}/responses?limit=1")).await;
        assert_eq!(truth.json()["total"], count + 1);
        // Usage is about API calls, not responses: still cached.
        assert_eq!(h.get("/usage").await.header("x-cache"), Some("hit"));
        h.shutdown().await;
    }
}

#[tokio::test]
async fn the_binary_with_sandbox_activity_streams_rising_response_counts() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conferbot-bff"))
        .args([
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-activity",
            "300ms",
        ])
        .env_remove("CONFERBOT_API_KEY")
        .env_remove("CONFERBOT_WEBHOOK_SECRET")
        .env_remove("CONFERBOT_REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let bff = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();

    let mut sse = SseClient::connect(&format!("{bff}{EVENTS}"), None).await;
    let event = sse.next_event(WAIT).await;
    let _ = child.kill();
    let _ = child.wait();
    let event = event.expect("no live event from the embedded sandbox");
    assert_eq!(event.event.as_deref(), Some("response.created"));
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert!(data["botId"].is_string(), "{data}");
}
