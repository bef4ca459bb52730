//! `--refresh-budget`: what an event makes stale is re-read at the budget's
//! pace, not once per event. With a chatbot's responses page held and
//! viewed by several readers, N `response.created` deliveries for it cost 0
//! upstream re-reads under the default (10% of the plan, learned first from
//! one getUsage); with `--refresh-budget off`, one re-read per event for
//! every reader together (coalesced).

use conferbot_policy::refresh_budget::RefreshBudget;
use conferbot_sandbox::SandboxStats;

use crate::events_applied::documented;
use crate::live::{now, post_signed, SECRET};
use crate::support::{sandbox_config, Harness};
use crate::webhooks::HOOK;

const N: u32 = 5;
const READERS: usize = 4;

fn responses_reads(stats: &SandboxStats) -> u64 {
    stats
        .by_operation
        .get("listResponses")
        .copied()
        .unwrap_or(0)
}

/// Delivers N events for the chatbot of the held responses page, each
/// followed by READERS concurrent reads of it; the upstream's listResponses
/// calls meanwhile, and the `x-cache` of every read.
async fn events_with_readers(refresh: RefreshBudget) -> (u64, Vec<String>, SandboxStats) {
    let h = Harness::with(sandbox_config(), |c| {
        c.webhook_secret = conferbot_bff::WebhookSecret::new(SECRET);
        c.settings.refresh_budget = refresh;
    })
    .await;
    let list = h.get("/chatbots?page=1&limit=20").await;
    let bot = list.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let responses = format!("/chatbots/{bot}/responses?page=1&limit=20");
    assert_eq!(h.get(&responses).await.header("x-cache"), Some("miss"));
    let before = responses_reads(&h.stats());
    let mut caches = Vec::new();
    for n in 0..N {
        let stamp = now();
        let body = documented("response.created", &bot, n, stamp);
        let (status, text) = post_signed(
            &h.client,
            &h.url(HOOK),
            &body,
            SECRET,
            &stamp.to_string(),
            "response.created",
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let reads = (0..READERS).map(|_| h.get(&responses));
        for reply in futures_util::future::join_all(reads).await {
            assert_eq!(reply.status, 200, "{}", reply.text);
            caches.push(reply.header("x-cache").unwrap_or("none").to_owned());
        }
    }
    let stats = h.stats();
    let rereads = responses_reads(&stats) - before;
    h.shutdown().await;
    (rereads, caches, stats)
}

#[tokio::test]
async fn by_default_events_for_a_held_responses_page_cost_no_reread_within_the_interval() {
    let (rereads, caches, stats) = events_with_readers(RefreshBudget::DEFAULT).await;
    assert_eq!(rereads, 0, "paced by the refresh budget");
    assert!(caches.iter().all(|c| c == "stale"), "{caches:?}");
    // The plan was learned first: the budget needs it.
    assert_eq!(stats.by_operation.get("getUsage").copied(), Some(1));
}

#[tokio::test]
async fn with_the_refresh_budget_off_each_event_costs_one_coalesced_reread() {
    let (rereads, caches, stats) = events_with_readers(RefreshBudget::Off).await;
    assert_eq!(rereads, u64::from(N), "one per event for {READERS} readers");
    assert!(
        caches.iter().all(|c| c != "stale"),
        "read again at once: {caches:?}"
    );
    assert_eq!(stats.by_operation.get("getUsage"), None, "nothing to learn");
}
