//! Attack: a browser registers a webhook that points into a private network
//! (cloud metadata, loopback services, the LAN), for the upstream to POST
//! to. The BFF refuses it, with the reason, before the upstream hears of it.

use crate::support::{sandbox_config, Harness};

#[tokio::test]
async fn webhooks_to_private_or_plain_http_urls_are_refused() {
    let h = Harness::start().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        "https://[::ffff:169.254.169.254]/",
        "https://2852039166/",
        "https://0xa9fea9fe/",
        "https://127.0.0.1:6379/",
        "https://127.1/",
        "https://[::1]/",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/",
        "https://localhost/",
        "https://printer.local/",
        "http://hooks.example.com/in",
    ] {
        let reply = h.post_webhook(url).await;
        assert_eq!(reply.status, 400, "{url}: {}", reply.text);
        assert!(
            reply.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("webhook URLs must be public https:// addresses"),
            "{url}: {}",
            reply.text
        );
    }
    assert_eq!(
        h.stats().api_calls,
        0,
        "a refused webhook reached the upstream"
    );
    assert_eq!(
        h.post_webhook("https://hooks.example.com/in").await.status,
        201
    );
    h.shutdown().await;
}

#[tokio::test]
async fn local_testing_may_register_loopback_receivers_only() {
    let h = Harness::with(sandbox_config(), |c| c.settings.allow_local_webhooks = true).await;
    let local = h
        .post_webhook(&h.url("/api/conferbot/webhooks/incoming"))
        .await;
    assert_eq!(local.status, 201, "{}", local.text);
    for url in ["http://169.254.169.254/", "http://10.0.0.8/hook"] {
        assert_eq!(h.post_webhook(url).await.status, 400, "{url}");
    }
    h.shutdown().await;
}
