//! Load shedding: past `--max-requests` in flight, or at the connection cap
//! with nothing idle to close, the answer is `503` with `Retry-After` at once
//! (not a timeout for everyone).

use std::time::{Duration, Instant};

use conferbot_attacks::sockets::{exchange, get, loopback};
use serde_json::json;
use tokio::task::JoinSet;

use crate::support::{start, SLACK};

/// Distinct reads (not coalesced), each held upstream by the sandbox's delay.
fn slow_reads(bff: &conferbot_attacks::bff::Bff, count: usize) -> JoinSet<Option<u16>> {
    let mut tasks = JoinSet::new();
    for page in 1..=count {
        let addr = bff.addr;
        tasks.spawn(async move {
            let path = format!("/api/conferbot/external/v1/chatbots?page={page}&limit=1");
            exchange(loopback(1), addr, &get(&path), Duration::from_secs(10))
                .await
                .ok()
                .and_then(|a| a.status)
        });
    }
    tasks
}

#[tokio::test]
async fn past_max_requests_in_flight_requests_are_shed_with_503() {
    let bff = start("shed-requests", &["--max-requests", "3"]);
    bff.sandbox_fault(&json!({"kind": "delay", "count": 3, "delayMs": 1500}))
        .await
        .unwrap();
    let mut slow = slow_reads(&bff, 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let shed = exchange(
        loopback(1),
        bff.addr,
        &get("/healthz"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(shed.status, Some(503), "{}", shed.raw);
    assert_eq!(shed.header("retry-after"), Some("2"), "{}", shed.raw);
    assert!(
        shed.body().contains("requests being answered"),
        "{}",
        shed.raw
    );
    assert!(started.elapsed() < SLACK, "shedding should be immediate");
    while let Some(status) = slow.join_next().await {
        assert_eq!(status.unwrap(), Some(200));
    }
    let after = exchange(
        loopback(1),
        bff.addr,
        &get("/healthz"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(after.status, Some(200), "{}", after.raw);
}

#[tokio::test]
async fn at_the_connection_cap_with_nothing_idle_new_connections_get_503() {
    let bff = start("shed-connections", &["--max-connections", "3"]);
    bff.sandbox_fault(&json!({"kind": "delay", "count": 3, "delayMs": 1500}))
        .await
        .unwrap();
    let mut slow = slow_reads(&bff, 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = exchange(
        loopback(1),
        bff.addr,
        &get("/healthz"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, Some(503), "{}", refused.raw);
    assert_eq!(refused.header("retry-after"), Some("2"), "{}", refused.raw);
    assert!(
        refused.body().contains("limit of connections"),
        "{}",
        refused.raw
    );
    while let Some(status) = slow.join_next().await {
        assert_eq!(status.unwrap(), Some(200));
    }
    let after = exchange(
        loopback(1),
        bff.addr,
        &get("/healthz"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(after.status, Some(200), "{}", after.raw);
}
