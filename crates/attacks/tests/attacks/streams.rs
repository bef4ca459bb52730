//! Event-stream caps: per address (`429`) and in all (`503`), both with
//! `Retry-After` and a message that says which.

use conferbot_attacks::flood::attacker;
use conferbot_attacks::streams::open;

use crate::support::start;

#[tokio::test]
async fn event_streams_are_capped_per_address_and_in_all_with_clear_refusals() {
    let bff = start(
        "sse-caps",
        &["--max-sse-streams", "6", "--max-sse-streams-per-ip", "3"],
    );
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            open(attacker(0), bff.addr)
                .await
                .unwrap()
                .expect("a stream within the caps"),
        );
    }
    let refused = open(attacker(0), bff.addr)
        .await
        .unwrap()
        .expect_err("a 4th stream from one address");
    assert_eq!(refused.status, Some(429), "{}", refused.raw);
    assert_eq!(refused.header("retry-after"), Some("2"), "{}", refused.raw);
    assert!(
        refused.body().contains("Too many event streams"),
        "{}",
        refused.raw
    );
    assert!(refused.body().contains("at most 3"), "{}", refused.raw);

    for _ in 0..3 {
        held.push(
            open(attacker(1), bff.addr)
                .await
                .unwrap()
                .expect("a stream within the caps"),
        );
    }
    let full = open(attacker(2), bff.addr)
        .await
        .unwrap()
        .expect_err("a 7th stream");
    assert_eq!(full.status, Some(503), "{}", full.raw);
    assert_eq!(full.header("retry-after"), Some("2"), "{}", full.raw);
    assert!(
        full.body().contains("limit of event streams"),
        "{}",
        full.raw
    );

    // A stream that ends gives its place back.
    drop(held.pop());
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(stream) = open(attacker(2), bff.addr).await.unwrap() {
            reopened = Some(stream);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        reopened.is_some(),
        "no place given back after a stream closed"
    );
}
