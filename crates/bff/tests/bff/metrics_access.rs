//! `/metrics` behind a bearer token, or on an address of its own.

use conferbot_bff::{MetricsListener, MetricsToken};

use crate::support::{localhost, sandbox_config, Harness};

#[tokio::test]
async fn a_metrics_token_admits_only_its_bearer() {
    let h = Harness::with(sandbox_config(), |c| {
        c.metrics_token = MetricsToken::new("scrape-me-7f3a");
    })
    .await;
    assert_eq!(h.get("/usage").await.status, 200);
    let metrics = |token: Option<&'static str>| {
        let mut request = h.client.get(h.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let refused = metrics(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert!(!refused.text().await.unwrap().contains("conferbot_bff_"));
    assert_eq!(metrics(Some("scrape-me")).await.unwrap().status(), 401);
    let text = metrics(Some("scrape-me-7f3a"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("conferbot_bff_requests_total{route=\"getUsage\",status=\"200\"} 1"),
        "{text}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_metrics_listener_takes_metrics_off_the_main_address() {
    let listener = MetricsListener::bind(localhost(0)).unwrap();
    let metrics_url = format!("http://{}/metrics", listener.addr());
    let h = Harness::with(sandbox_config(), |c| c.metrics_listener = Some(listener)).await;
    assert_eq!(h.get("/usage").await.status, 200);
    let main = h.client.get(h.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);
    let apart = h.client.get(&metrics_url).send().await.unwrap();
    assert_eq!(apart.status(), 200);
    let text = apart.text().await.unwrap();
    assert!(
        text.contains("conferbot_bff_upstream_calls_total{route=\"getUsage\",status=\"200\"} 1"),
        "{text}"
    );
    // Only /metrics lives there: the API does not.
    let api = h
        .client
        .get(metrics_url.replace("/metrics", "/api/conferbot/external/v1/usage"));
    assert_eq!(api.send().await.unwrap().status(), 404);
    h.shutdown().await;
    // Stopped with the BFF.
    assert!(reqwest::get(&metrics_url).await.is_err());
}
