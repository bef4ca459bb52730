//! Path and SSRF tricks: refused on the raw path, never forwarded.

use crate::support::{raw_get, Harness};

const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

#[tokio::test]
async fn hostile_paths_are_refused_and_never_reach_the_upstream() {
    let h = Harness::start().await;
    let p = "/api/conferbot/external/v1";
    let rows: Vec<(&str, String, u16)> = vec![
        ("GET", format!("{p}/chatbots/../usage"), 400),
        ("GET", format!("{p}/chatbots/%2e%2e/usage"), 400),
        (
            "GET",
            format!("{p}/chatbots/%2E%2E/%2E%2E/sandbox/stats"),
            400,
        ),
        ("GET", format!("{p}/chatbots%2fusage"), 400),
        ("GET", format!("{p}/chatbots/{BOT}%2F..%2F..%2Fusage"), 400),
        ("GET", format!("{p}/chatbots%5c..%5cusage"), 400),
        ("GET", format!("{p}/chatbots\\..\\usage"), 400),
        (
            "GET",
            "/api/conferbot//evil.com/external/v1/chatbots".into(),
            400,
        ),
        ("GET", format!("{p}//evil.com/chatbots"), 400),
        ("GET", format!("{p}/http://evil.com/chatbots"), 400),
        ("GET", format!("{p}/chatbots/{BOT}@evil.com"), 400),
        (
            "GET",
            "http://evil.com/api/conferbot/external/v1/usage".into(),
            400,
        ),
        ("GET", format!("{p}/chatbots/123"), 400),
        ("GET", format!("{p}/chatbots/{BOT}00"), 400),
        ("GET", format!("{p}/chatbots/{}", "a".repeat(4_000)), 400),
        ("GET", format!("{p}/chatbots/64f8a2b3c1d4e5f6a7b8c9zz"), 400),
        (
            "GET",
            format!("{p}/chatbots/%EF%BC%96%EF%BC%94f8a2b3c1d4e5f6a7b8c9d0"),
            400,
        ),
        ("GET", format!("{p}/chatbots/{BOT}%00"), 400),
        ("GET", format!("{p}/chatbots/{BOT};x=1"), 400),
        ("GET", format!("{p}/chatbots/./{BOT}"), 400),
        ("GET", format!("{p}/chatbots/{BOT}/responses/.."), 400),
        ("GET", format!("{p}/usage%3Fx=1"), 400),
        ("GET", format!("{p}/usage%20"), 400),
        ("GET", "/api/conferbot/%2e%2e/sandbox/stats".into(), 400),
        ("GET", "/api/conferbot/..".into(), 400),
        ("GET", format!("{p}/chatbots?limit=1000"), 400),
        ("GET", format!("{p}/chatbots?page=../../usage"), 400),
        ("GET", format!("{p}/chatbots;jsessionid=1"), 404),
        ("GET", format!("{p}/admin"), 404),
        ("GET", format!("{p}/CHATBOTS"), 404),
        ("GET", format!("{p}/chatbots/{BOT}/responses/{BOT}"), 404),
        ("GET", "/api/conferbot/sandbox/faults".into(), 404),
        ("GET", "/api/conferbot/external/v2/chatbots".into(), 404),
        ("GET", "/api%2fconferbot/external/v1/usage".into(), 404),
        ("GET", "/sandbox/stats".into(), 404),
        ("GET", "/api/v1/external/v1/usage".into(), 404),
        ("PUT", format!("{p}/webhooks"), 405),
        ("PATCH", format!("{p}/chatbots/{BOT}"), 405),
        ("DELETE", format!("{p}/chatbots"), 405),
        ("TRACE", format!("{p}/usage"), 405),
    ];
    let mut raw_rows: Vec<(&str, Vec<u8>, u16)> = rows
        .iter()
        .map(|(m, path, s)| (*m, path.clone().into_bytes(), *s))
        .collect();
    // Bytes no client library would send as they are.
    raw_rows.push(("GET", format!("{p}/chatbots/{BOT}\0").into_bytes(), 400));
    raw_rows.push((
        "GET",
        format!("{p}/chatbots/６４f8a2b3c1d4e5f6a7b8c9d0").into_bytes(),
        400,
    ));
    raw_rows.push(("GET", format!("{p}/chat bots").into_bytes(), 400));

    let mut failures = Vec::new();
    for (method, path, expected) in &raw_rows {
        let (status, answer) = raw_get(h.addr, method, path).await;
        if status != *expected {
            failures.push(format!(
                "{method} {} → {status}, expected {expected}\n{answer}",
                String::from_utf8_lossy(path)
            ));
        }
        if status == 405 {
            assert!(
                answer.to_ascii_lowercase().contains("\r\nallow: "),
                "{answer}"
            );
        }
        // Our own refusals are in the API's format (hyper's own 400 for an
        // unparseable request line is not, and need not be).
        if answer.contains("application/json") {
            assert!(answer.contains("{\"error\":"), "{answer}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("hostile paths tried: {}", raw_rows.len());
    assert!(raw_rows.len() >= 40, "{}", raw_rows.len());
    assert_eq!(
        h.stats().api_calls,
        0,
        "a hostile request reached the upstream"
    );

    // The same paths, when well-formed, do reach it: the test can see a call.
    let (status, _) = raw_get(h.addr, "GET", format!("{p}/usage").as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(h.stats().api_calls, 1);
    h.shutdown().await;
}
