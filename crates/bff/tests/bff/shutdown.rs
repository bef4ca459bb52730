//! Graceful shutdown: requests in flight finish.

use futures_util::future::join_all;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn requests_in_flight_finish_after_shutdown_begins() {
    let mut h = Harness::start().await;
    h.fault(json!({"kind": "delay", "count": 5, "delayMs": 500}))
        .await;
    let client = h.client.clone();
    let urls: Vec<String> = (1..=5)
        .map(|page| h.api(&format!("/chatbots?page={page}&limit=2")))
        .collect();
    let in_flight = tokio::spawn(join_all(urls.into_iter().map(move |url| {
        let client = client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    })));
    // Wait until all five reached the upstream, then stop the BFF.
    for _ in 0..100 {
        if h.stats().api_calls == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(h.stats().api_calls, 5);
    let server = h.begin_shutdown();
    let results = in_flight.await.unwrap();
    for (status, text) in &results {
        assert_eq!(*status, 200, "{text}");
    }
    server.await.unwrap().unwrap();
    // Stopped: no new connections.
    assert!(reqwest::get(h.api("/usage")).await.is_err());
}
