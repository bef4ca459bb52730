//! CSRF: writes need the header, and an allowed origin when one is sent.

use crate::support::{sandbox_config, Harness, CSRF};

const ALLOWED: &str = "https://dashboard.example.com";

#[tokio::test]
async fn writes_need_the_csrf_header_and_an_allowed_origin() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.allow_origins = vec![ALLOWED.into()]
    })
    .await;
    let body = r#"{"url":"https://example.com/in","events":["response.created"]}"#;
    let post = |origin: Option<String>, csrf: bool| {
        let mut request = h
            .client
            .post(h.api("/webhooks"))
            .header("content-type", "application/json")
            .body(body);
        if csrf {
            request = request.header(CSRF.0, CSRF.1);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let missing = post(None, false).await.unwrap();
    assert_eq!(missing.status(), 403);
    let text = missing.text().await.unwrap();
    assert!(text.contains("x-conferbot-csrf: 1"), "{text}");

    let evil = post(Some("https://evil.example".into()), true)
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let text = evil.text().await.unwrap();
    assert!(text.contains("\"error\":\"Forbidden\""), "{text}");
    assert!(text.contains("evil.example"), "{text}");

    let lookalike = post(Some(format!("http://{}.evil.example", h.addr)), true)
        .await
        .unwrap();
    assert_eq!(lookalike.status(), 403);

    let delete_without = h
        .client
        .delete(h.api("/webhooks/64f8a2b3c1d4e5f6a7b8c9d0"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete_without.status(), 403);
    assert_eq!(
        h.stats().api_calls,
        0,
        "a refused write reached the upstream"
    );

    let allowed = post(Some(ALLOWED.into()), true).await.unwrap();
    assert_eq!(allowed.status(), 201);
    // CORS answers only the configured origin.
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        ALLOWED,
        "{:?}",
        allowed.headers()
    );

    let same_origin = post(Some(format!("http://{}", h.addr)), true)
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 201);

    let no_origin = post(None, true).await.unwrap();
    assert_eq!(
        no_origin.status(),
        201,
        "non-browser clients send no Origin"
    );

    // Reads need neither.
    let read = h.client.get(h.api("/webhooks")).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(h.stats().api_calls, 4);
    h.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.allow_origins = vec![ALLOWED.into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        h.client
            .request(reqwest::Method::OPTIONS, h.api("/webhooks"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-conferbot-csrf",
            )
            .send()
    };
    let ok = preflight(ALLOWED).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], ALLOWED);
    let allowed_headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(
        allowed_headers.contains("x-conferbot-csrf"),
        "{allowed_headers}"
    );
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    assert_eq!(h.stats().api_calls, 0);
    h.shutdown().await;
}
