//! The key goes upstream and nowhere else; browser credentials go nowhere.

use conferbot_policy::refresh_budget::RefreshBudget;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Router;
use conferbot::Plan;
use conferbot_bff::{ApiKey, BffConfig};
use conferbot_sandbox::SandboxConfig;
use http_body_util::BodyExt;
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::{localhost, logs, raw_get, sandbox_config, start_bff, Harness, Reply, CSRF};

/// Recognisable, and in no other test: if it shows up anywhere, it leaked.
const KEY: &str = "sk-live-CANARY-5e1f0c9a7b3d";
const WRONG_KEY: &str = "sk-live-WRONGCANARY-77aa";

#[tokio::test]
async fn the_key_never_reaches_a_response_an_error_metrics_or_a_log() {
    let sandbox = SandboxConfig {
        extra_keys: vec![(KEY.to_owned(), Plan::Pro)],
        ..sandbox_config()
    };
    let h = Harness::with(sandbox, |c| {
        c.api_key = ApiKey::new(KEY).unwrap();
        c.settings.upstream_timeout = Duration::from_millis(400);
        // Every call below must reach the sandbox (and its armed faults).
        c.settings.cache_ttl = Duration::ZERO;
    })
    .await;
    let mut seen = Vec::new();

    let list = h.get("/chatbots?limit=2").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let bot = list.json()["data"][0]["id"].as_str().unwrap().to_owned();
    seen.push(list);
    for path in [
        format!("/chatbots/{bot}"),
        format!("/chatbots/{bot}/responses"),
        "/usage".into(),
        "/webhooks".into(),
        "/chatbots/000000000000000000000000".into(),
        "/chatbots/123".into(),
        "/chatbots?limit=9999".into(),
        "/nope".into(),
    ] {
        seen.push(h.get(&path).await);
    }
    let created = h.post_webhook("https://example.com/secret-test").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let hook = created.json()["data"]["id"].as_str().unwrap().to_owned();
    seen.push(created);
    seen.push(h.delete(&format!("/webhooks/{hook}")).await);
    seen.push(h.post_webhook("ftp://bad").await);
    let no_csrf = h
        .client
        .post(h.api("/webhooks"))
        .body("{}")
        .send()
        .await
        .unwrap();
    seen.push(Reply::of(no_csrf).await);
    let too_big = h
        .client
        .post(h.api("/webhooks"))
        .header(CSRF.0, CSRF.1)
        .body(vec![b' '; 70_000])
        .send()
        .await
        .unwrap();
    seen.push(Reply::of(too_big).await);
    let put = h.client.put(h.api("/webhooks")).send().await.unwrap();
    seen.push(Reply::of(put).await);
    for (kind, delay) in [
        ("status500", 0),
        ("nonJson", 0),
        ("truncated", 0),
        ("drop", 0),
        ("delay", 1_000),
    ] {
        h.fault(json!({"kind": kind, "count": 1, "delayMs": delay}))
            .await;
        seen.push(h.get("/usage").await);
    }
    for path in ["/metrics", "/healthz", "/elsewhere"] {
        let response = h.client.get(h.url(path)).send().await.unwrap();
        seen.push(Reply::of(response).await);
    }
    let (_, raw_answer) =
        raw_get(h.addr, "GET", b"/api/conferbot/external/v1/chatbots/%2e%2e").await;

    // A BFF with a key the upstream refuses: the 401 must not echo it either.
    let mut wrong = BffConfig::new(ApiKey::new(WRONG_KEY).unwrap());
    wrong.settings.upstream = h.sandbox.base_url();
    assert!(
        !format!("{wrong:?}").contains(WRONG_KEY),
        "Debug shows the key"
    );
    let (wrong_addr, stop, task) = start_bff(wrong).await;
    let refused = reqwest::get(format!(
        "http://{wrong_addr}/api/conferbot/external/v1/usage"
    ))
    .await
    .unwrap();
    let refused = Reply::of(refused).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    seen.push(refused);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();

    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    for expected in [200, 201, 400, 401, 403, 404, 405, 413, 500, 502, 504] {
        assert!(
            statuses.contains(&expected),
            "no {expected} in {statuses:?}"
        );
    }
    let everything: String = seen.iter().map(Reply::dump).collect::<String>() + &raw_answer;
    for key in [KEY, WRONG_KEY] {
        assert!(!everything.contains(key), "the key leaked into a response");
        assert!(!logs().contains(key), "the key leaked into the logs");
    }
    // The logs are there, and detailed: the check above is not vacuous.
    let logs = logs();
    assert!(logs.contains("conferbot_bff"), "no BFF logs captured");
    assert!(
        logs.contains("upstream call failed"),
        "no error logs captured"
    );
    h.shutdown().await;
}

/// What a capturing upstream saw: method, path and query, headers, body.
type Seen = Arc<Mutex<Vec<(String, String, HeaderMap, Vec<u8>)>>>;

/// A stand-in upstream that records every request and answers with headers
/// a browser must never get.
async fn capturing_upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new().fallback(move |request: Request| {
        let record = Arc::clone(&record);
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes().to_vec();
            let target = parts.uri.path_and_query().unwrap().to_string();
            record
                .lock()
                .unwrap()
                .push((parts.method.to_string(), target, parts.headers, body));
            let status = if parts.method == "POST" { 201 } else { 200 };
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [
                    ("set-cookie", "upstream_session=abc; HttpOnly"),
                    ("server", "capture/1.0"),
                    ("x-powered-by", "capture"),
                    ("access-control-allow-origin", "*"),
                    ("content-type", "application/json"),
                ],
                r#"{"data":[]}"#,
            )
                .into_response()
        }
    });
    let listener = TcpListener::bind(localhost(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api/v1"), seen)
}

#[tokio::test]
async fn browser_credentials_and_headers_never_reach_the_upstream() {
    let (upstream, seen) = capturing_upstream().await;
    let mut config = BffConfig::new(ApiKey::new(KEY).unwrap());
    config.settings.upstream = upstream.clone();
    config.settings.refresh_budget = RefreshBudget::Off; // calls are counted exactly
    let (addr, stop, task) = start_bff(config).await;
    let client = reqwest::Client::new();
    let hostile_headers = [
        ("x-api-key", "browser-key"),
        ("cookie", "session=browser-cookie"),
        ("authorization", "Bearer browser-token"),
        ("proxy-authorization", "Basic browser-proxy"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-forwarded-host", "browser-evil.example"),
        ("forwarded", "for=browser"),
        ("te", "trailers"),
        ("x-custom", "browser-custom"),
        ("accept-encoding", "gzip"),
        ("keep-alive", "timeout=5"),
    ];
    let base = format!("http://{addr}/api/conferbot/external/v1");
    let mut get = client.get(format!(
        "{base}/chatbots?limit=5&page=2&x-api-key=browser-q"
    ));
    let mut post = client
        .post(format!("{base}/webhooks"))
        .header(CSRF.0, CSRF.1)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"url":"https://example.com/in","events":["response.created"],"secret":"browser-secret","active":false}"#);
    let mut delete = client
        .delete(format!("{base}/webhooks/64f8a2b3c1d4e5f6a7b8c9d0"))
        .header(CSRF.0, CSRF.1)
        .body("browser-body");
    for (name, value) in hostile_headers {
        get = get.header(name, value);
        post = post.header(name, value);
        delete = delete.header(name, value);
    }
    let answers = [
        Reply::of(get.send().await.unwrap()).await,
        Reply::of(post.send().await.unwrap()).await,
        Reply::of(delete.send().await.unwrap()).await,
    ];
    for answer in &answers {
        assert!(
            answer.status == 200 || answer.status == 201,
            "{}",
            answer.dump()
        );
        for name in [
            "set-cookie",
            "server",
            "x-powered-by",
            "access-control-allow-origin",
        ] {
            assert!(
                answer.headers.get(name).is_none(),
                "{name} reached the browser"
            );
        }
    }

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let upstream_host = upstream
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1");
    for (method, target, headers, body) in &seen {
        let names: Vec<&str> = headers.keys().map(|n| n.as_str()).collect();
        for name in &names {
            assert!(
                [
                    "host",
                    "accept",
                    "x-api-key",
                    "content-type",
                    "content-length"
                ]
                .contains(name),
                "{method} {target}: {name} was forwarded"
            );
        }
        let keys: Vec<_> = headers.get_all("x-api-key").iter().collect();
        assert_eq!(keys, vec![KEY], "{method}: exactly our key, once");
        assert_eq!(headers["host"], upstream_host);
        let all = format!("{target} {headers:?} {}", String::from_utf8_lossy(body));
        assert!(
            !all.contains("browser"),
            "{method}: browser data forwarded: {all}"
        );
    }
    assert_eq!(seen[0].1, "/api/v1/external/v1/chatbots?page=2&limit=5");
    assert_eq!(seen[1].1, "/api/v1/external/v1/webhooks");
    assert_eq!(
        String::from_utf8_lossy(&seen[1].3),
        r#"{"url":"https://example.com/in","events":["response.created"]}"#
    );
    assert_eq!(seen[1].2["content-type"], "application/json");
    assert_eq!(seen[2].0, "DELETE");
    assert!(seen[2].3.is_empty(), "a DELETE body was forwarded");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
