//! `--auth-url`: a tiny authorisation service decides who may use the BFF,
//! by the browser's cookie or `Authorization`. Allowed requests go through
//! (named users counted as clients of their own), 401/403 come back, a
//! slow or broken service lets nobody in, and nothing refused reaches the
//! upstream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

use crate::support::{localhost, sandbox_config, Harness, Reply, API, CSRF};
use crate::webhooks::{EVENTS, HOOK};

/// The headers the service was asked with.
type Asked = Arc<Mutex<Vec<HeaderMap>>>;

/// The service: by `Cookie: session=…` (or a bearer token) it allows
/// (naming alice or bob, or nobody), refuses, stalls, fails or redirects.
async fn auth_service() -> (String, Asked) {
    let asked: Asked = Arc::default();
    let record = Arc::clone(&asked);
    let app = Router::new().fallback(move |request: Request| {
        let record = Arc::clone(&record);
        async move {
            let headers = request.headers().clone();
            record.lock().unwrap().push(headers.clone());
            let cookie = headers
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let bearer = headers
                .get("authorization")
                .is_some_and(|v| v == "Bearer good");
            let user = |name: &'static str| -> Response {
                (StatusCode::NO_CONTENT, [("x-auth-request-user", name)]).into_response()
            };
            match cookie {
                "session=alice" => user("alice"),
                "session=bob" => user("bob"),
                "session=banned" => StatusCode::FORBIDDEN.into_response(),
                "session=slow" => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    user("slow")
                }
                "session=broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                "session=redirect" => (StatusCode::FOUND, [("location", "/login")]).into_response(),
                _ if bearer => StatusCode::OK.into_response(),
                _ => StatusCode::UNAUTHORIZED.into_response(),
            }
        }
    });
    let listener = TcpListener::bind(localhost(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/oauth2/auth"), asked)
}

#[tokio::test]
async fn forward_auth_allows_refuses_and_fails_closed() {
    let (auth_url, asked) = auth_service().await;
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.auth_url = Some(auth_url);
        c.settings.auth_timeout = Duration::from_millis(300);
        c.settings.client_monthly_calls = Some(1);
    })
    .await;
    let get = |cookie: Option<&'static str>, path: String| {
        let mut request = h
            .client
            .get(h.api(&path))
            .header("x-api-key", "browser-key");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { Reply::of(request.send().await.unwrap()).await }
    };

    let anonymous = get(None, "/usage".into()).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_eq!(anonymous.json()["error"], "Unauthorized");
    assert_eq!(
        get(Some("session=banned"), "/usage".into()).await.status,
        403
    );
    for failing in ["session=slow", "session=broken", "session=redirect"] {
        let reply = get(Some(failing), "/usage".into()).await;
        assert_eq!(reply.status, 503, "{failing}: {}", reply.text);
        assert!(reply.header("retry-after").is_some());
    }
    let stream = h.client.get(h.url(EVENTS)).send().await.unwrap();
    assert_eq!(stream.status(), 401, "the live events need a session too");
    let write = h
        .client
        .post(h.api("/webhooks"))
        .header(CSRF.0, CSRF.1)
        .header("content-type", "application/json")
        .body(r#"{"url":"https://hooks.example.com/in","events":["response.created"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 401);
    assert_eq!(
        h.stats().api_calls,
        0,
        "a refused request reached the upstream"
    );

    // Allowed: alice and bob are clients of their own (one call a month
    // each here), though both come from 127.0.0.1.
    let alice = get(Some("session=alice"), "/chatbots?page=1".into()).await;
    assert_eq!(alice.status, 200, "{}", alice.text);
    let again = get(Some("session=alice"), "/chatbots?page=2".into()).await;
    assert_eq!(again.status, 429, "{}", again.text);
    let bob = get(Some("session=bob"), "/chatbots?page=2".into()).await;
    assert_eq!(bob.status, 200, "{}", bob.text);
    let token = h
        .client
        .get(h.api("/usage"))
        .header("authorization", "Bearer good")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert_eq!(h.stats().api_calls, 3);

    // Not behind the step: health, and the webhook receiver (signed).
    assert_eq!(
        h.client
            .get(h.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let delivery = h.client.post(h.url(HOOK)).body("{}").send().await.unwrap();
    assert_eq!(
        delivery.status(),
        503,
        "the receiver answers by signature, not session"
    );

    // What the service was told: the credentials and the original request,
    // never the browser's other headers.
    let asked = asked.lock().unwrap().clone();
    let alice_asked = asked
        .iter()
        .find(|h| h.get("cookie").is_some_and(|c| c == "session=alice"))
        .unwrap();
    assert_eq!(alice_asked["x-forwarded-method"], "GET");
    assert_eq!(
        alice_asked["x-forwarded-uri"],
        format!("{API}/chatbots?page=1")
    );
    assert_eq!(alice_asked["x-forwarded-for"], "127.0.0.1");
    assert!(asked.iter().all(|h| h.get("x-api-key").is_none()));
    h.shutdown().await;
}
