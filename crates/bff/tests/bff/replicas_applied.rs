//! Three replicas on one Redis: patched answers shared by all, a delivery
//! retried onto several replicas applied once, one revalidation for stale
//! hits anywhere, and one count of the month's calls.

use std::collections::BTreeMap;
use std::time::Duration;

use conferbot_bff::ApiKey;
use conferbot_sandbox::keys;
use futures_util::future::join_all;

use crate::events_applied::documented;
use crate::live::{now, post_signed, SECRET};
use crate::replicas::Replicas;
use crate::revalidation::calls_reach;
use crate::support::sandbox_config;
use crate::webhooks::HOOK;

#[tokio::test]
async fn replicas_share_patched_answers_and_apply_a_retried_delivery_once() {
    let replicas = Replicas::start(3, sandbox_config(), |_| {}).await;
    let list = replicas.get(0, "/chatbots").await;
    let bot = list.json()["data"][1]["id"].as_str().unwrap().to_owned();
    let count = list.json()["data"][1]["responseCount"].as_i64().unwrap();
    assert_eq!(
        replicas.get(1, &format!("/chatbots/{bot}")).await.status,
        200
    );
    let calls = replicas.stats().api_calls;

    // One delivery, its retries landing on every replica at once.
    let stamp = now();
    let body = documented("response.created", &bot, 1, stamp);
    let posts = (0..3).map(|replica| {
        let url = replicas.url(replica, HOOK);
        let (client, body) = (replicas.client.clone(), body.clone());
        async move {
            post_signed(
                &client,
                &url,
                &body,
                SECRET,
                &stamp.to_string(),
                "response.created",
            )
            .await
        }
    });
    let answers = join_all(posts).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    let firsts = answers
        .iter()
        .filter(|(_, text)| !text.contains("duplicate"))
        .count();
    assert_eq!(firsts, 1, "applied once: {answers:?}");
    // Another delivery, on another replica.
    let stamp = now();
    let body = documented("response.created", &bot, 2, stamp);
    let (status, _) = post_signed(
        &replicas.client,
        &replicas.url(2, HOOK),
        &body,
        SECRET,
        &stamp.to_string(),
        "response.created",
    )
    .await;
    assert_eq!(status, 200);

    for replica in 0..3 {
        let list = replicas.get(replica, "/chatbots").await;
        assert_eq!(list.header("x-cache"), Some("hit"), "replica {replica}");
        assert_eq!(
            list.json()["data"][1]["responseCount"],
            count + 2,
            "replica {replica}"
        );
        let one = replicas.get(replica, &format!("/chatbots/{bot}")).await;
        assert_eq!(one.header("x-cache"), Some("hit"));
        assert_eq!(one.json()["data"]["responseCount"], count + 2);
    }
    assert_eq!(replicas.stats().api_calls, calls, "no upstream call");
    replicas.shutdown().await;
}

#[tokio::test]
async fn stale_hits_on_every_replica_make_one_revalidation_and_the_month_is_counted_once() {
    // Enterprise: no monthly limit, so nothing stretches the 1 s interval
    // (on Starter, three keys revalidated until the month's end would be
    // spaced by minutes to fit its 10,000 calls).
    let replicas = Replicas::start(3, sandbox_config(), |c| {
        c.api_key = ApiKey::new(keys::ENTERPRISE).unwrap();
        c.settings.cache_ttl = Duration::from_secs(1);
        c.settings.cache_stale = Duration::from_secs(3_600);
    })
    .await;
    let usage = replicas.get(0, "/usage").await;
    let used = usage.json()["data"]["used"].as_u64().unwrap();
    assert_eq!(replicas.get(1, "/webhooks").await.status, 200);
    assert_eq!(replicas.get(2, "/chatbots?limit=5").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let before = replicas.stats().api_calls;
    let replies = join_all((0..60).map(|i| replicas.get(i % 3, "/webhooks"))).await;
    let mut by_cache: BTreeMap<String, usize> = BTreeMap::new();
    for reply in &replies {
        assert_eq!(reply.status, 200);
        *by_cache
            .entry(reply.header("x-cache").unwrap_or("none").to_owned())
            .or_default() += 1;
    }
    calls_reach(|| replicas.stats().api_calls, before + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("60 stale reads over 3 replicas: x-cache {by_cache:?}");
    assert_eq!(by_cache.get("miss"), None, "{by_cache:?}");
    assert_eq!(
        replicas.stats().api_calls,
        before + 1,
        "one revalidation for all"
    );

    // Every replica's calls are counted once, in one book.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let said = replicas.get(2, "/chatbots?limit=5").await;
    let expected = used + 2 + 1;
    assert_eq!(
        said.header("x-quota-month-used"),
        Some(expected.to_string().as_str()),
        "getUsage said {used}; then webhooks, chatbots and one revalidation"
    );
    assert_eq!(said.header("x-quota-month-limit"), Some("unlimited"));
    replicas.shutdown().await;
}
