//! Traffic shaping: bursts are queued under the upstream's limit, and an
//! upstream 429 pauses the queue instead of being hammered.

use std::time::Duration;

use conferbot_sandbox::SandboxConfig;
use futures_util::future::join_all;

use crate::support::Harness;

#[tokio::test]
async fn a_burst_of_150_is_queued_under_the_limit_with_no_upstream_429() {
    let rate: conferbot::RateSpec = "20/2s".parse().unwrap();
    let sandbox = SandboxConfig {
        rate,
        ..SandboxConfig::default()
    };
    let h = Harness::with(sandbox, |c| {
        c.settings.rate = rate;
        c.settings.queue_wait = Duration::from_secs(30);
        // A request may wait that long in the queue: the whole request may take longer.
        c.settings.connections.request_timeout = Duration::from_secs(45);
    })
    .await;
    let replies =
        join_all((1..=150).map(|page| h.get(format!("/chatbots?page={page}&limit=1")))).await;
    let failures: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let stats = h.stats();
    println!("burst of 150: sandbox {stats:?}");
    assert_eq!(stats.rate_limited, 0, "upstream 429s: {stats:?}");
    assert_eq!(stats.api_calls, 150);
    let metrics = h
        .client
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("conferbot_bff_queue_wait_seconds_count 150"),
        "{metrics}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn an_upstream_429_pauses_the_queue_for_its_retry_after() {
    // The BFF believes in a much higher rate than the upstream allows.
    let sandbox = SandboxConfig {
        rate: "3/1s".parse().unwrap(),
        ..SandboxConfig::default()
    };
    let h = Harness::with(sandbox, |c| {
        c.settings.rate = "100/1s".parse().unwrap();
        c.settings.cache_ttl = Duration::ZERO;
    })
    .await;
    let mut statuses = Vec::new();
    for page in 1..=9 {
        statuses.push(h.get(format!("/chatbots?page={page}&limit=1")).await.status);
    }
    // Every request succeeded: each 429 paused the queue, then was repeated.
    assert_eq!(statuses, vec![200; 9]);
    let stats = h.stats();
    println!("upstream 429 pause: sandbox {stats:?}");
    // Hammering would have earned a 429 for every request after the 3rd of
    // each second; pausing for Retry-After earns about one per window.
    assert!(stats.rate_limited >= 1, "{stats:?}");
    assert!(
        stats.rate_limited <= 3,
        "the BFF hammered the upstream: {stats:?}"
    );
    assert_eq!(stats.api_calls, 9 + stats.rate_limited);
    h.shutdown().await;
}

#[tokio::test]
async fn past_the_queue_wait_the_bff_answers_429_with_retry_after() {
    let h = Harness::with(crate::support::sandbox_config(), |c| {
        c.settings.rate = "2/60s".parse().unwrap();
        c.settings.queue_wait = Duration::from_millis(200);
        // One client, both calls at once: no pacing to its share here.
        c.settings.client_share = 100;
    })
    .await;
    assert_eq!(h.get("/chatbots?page=1").await.status, 200);
    assert_eq!(h.get("/chatbots?page=2").await.status, 200);
    let refused = h.get("/chatbots?page=3").await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"], "Rate limit exceeded");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=62).contains(&retry_after), "{retry_after}");
    assert_eq!(h.stats().api_calls, 2);
    h.shutdown().await;
}
