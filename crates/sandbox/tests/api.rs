//! The API as a client sees it: auth, plans, reads, pagination, routing
//! errors, usage, determinism and the admin counters.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod common;

use common::{config, start};
use conferbot::{Chatbot, ChatbotResponse, DataEnvelope, Limit, Page, Plan, Usage};
use conferbot_sandbox::keys;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_or_unknown_keys_get_the_guides_401() {
    let h = start(config()).await;
    let none = h.send(Method::GET, &h.api("/chatbots"), None, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json, json!({"error": "Invalid or missing API key"}));
    let wrong = h.get("sk-not-a-key", "/usage").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json, json!({"error": "Invalid or missing API key"}));
}

#[tokio::test]
async fn the_free_plan_has_no_api_access() {
    let h = start(config()).await;
    let answer = h.get(keys::FREE, "/chatbots").await;
    assert_eq!(answer.status, 403);
    let error = answer.json["error"].as_str().unwrap();
    assert!(error.contains("not available on the Free plan"), "{error}");
}

#[tokio::test]
async fn lists_chatbots_with_totals() {
    let h = start(config()).await;
    let answer = h.get(keys::STARTER, "/chatbots").await;
    assert_eq!(answer.status, 200);
    assert!(answer
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let page: Page<Chatbot> = serde_json::from_value(answer.json).unwrap();
    assert_eq!(page.data.len(), 20);
    assert_eq!(
        (page.total, page.page, page.total_pages),
        (Some(137), Some(1), Some(7))
    );
    let bot = &page.data[0];
    assert!(conferbot::id::is_object_id(&bot.id));
    assert!(bot.created_at.ends_with('Z') && bot.created_at.len() == 24);
    assert!(page
        .data
        .iter()
        .all(|b| ["active", "inactive", "draft"].contains(&b.status.as_str())));
}

#[tokio::test]
async fn pagination_edges() {
    let h = start(config()).await;
    let page = |path: &'static str| {
        let h = &h;
        async move {
            let answer = h.get(keys::PRO, path).await;
            assert_eq!(answer.status, 200, "{path}: {:?}", answer.json);
            serde_json::from_value::<Page<Chatbot>>(answer.json).unwrap()
        }
    };
    let last = page("/chatbots?page=7&limit=20").await;
    assert_eq!(
        (last.data.len(), last.page, last.total_pages),
        (17, Some(7), Some(7))
    );
    let past = page("/chatbots?page=8").await;
    assert!(past.data.is_empty());
    assert_eq!(
        (past.total, past.page, past.total_pages),
        (Some(137), Some(8), Some(7))
    );
    let big = page("/chatbots?limit=100&utm_source=x").await;
    assert_eq!((big.data.len(), big.total_pages), (100, Some(2)));
    let second = page("/chatbots?foo=bar&page=2").await;
    let first_40 = page("/chatbots?limit=40").await;
    assert_eq!(second.data, first_40.data[20..]);

    for (query, expected) in [
        ("limit=101", "limit must be an integer from 1 to 100"),
        ("limit=0", "limit must be an integer from 1 to 100"),
        ("page=0", "page must be an integer from 1"),
        ("page=abc", "page must be an integer from 1"),
        ("page=-1", "page must be an integer from 1"),
        ("page=1&page=2", "page must be given at most once"),
    ] {
        let answer = h.get(keys::PRO, &format!("/chatbots?{query}")).await;
        assert_eq!(answer.status, 400, "{query}");
        let error = answer.json["error"].as_str().unwrap();
        assert!(error.contains(expected), "{query}: {error}");
    }
}

#[tokio::test]
async fn a_chatbot_and_its_paginated_responses() {
    let h = start(config()).await;
    let list: Page<Chatbot> =
        serde_json::from_value(h.get(keys::STARTER, "/chatbots?limit=100").await.json).unwrap();
    let bot = list.data.iter().find(|b| b.response_count > 5).unwrap();
    let one = h.get(keys::STARTER, &format!("/chatbots/{}", bot.id)).await;
    assert_eq!(one.status, 200);
    let one: DataEnvelope<Chatbot> = serde_json::from_value(one.json).unwrap();
    assert_eq!(&one.data, bot);
    // Ids are hex: upper case finds the same chatbot.
    let upper = h
        .get(
            keys::STARTER,
            &format!("/chatbots/{}", bot.id.to_uppercase()),
        )
        .await;
    assert_eq!(upper.status, 200);

    let path = format!("/chatbots/{}/responses?limit=5", bot.id);
    let first: Page<ChatbotResponse> =
        serde_json::from_value(h.get(keys::STARTER, &path).await.json).unwrap();
    assert_eq!(first.total, Some(bot.response_count));
    assert_eq!(first.data.len(), 5);
    assert!(first.data.iter().all(|r| r.chatbot_id == bot.id));
    assert!(first
        .data
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));
    let mut all = Vec::new();
    for p in 1..=first.total_pages.unwrap() {
        let path = format!("/chatbots/{}/responses?limit=5&page={p}", bot.id);
        let page: Page<ChatbotResponse> =
            serde_json::from_value(h.get(keys::STARTER, &path).await.json).unwrap();
        all.extend(page.data);
    }
    assert_eq!(all.len() as u64, bot.response_count);
    let bad = h
        .get(
            keys::STARTER,
            &format!("/chatbots/{}/responses?limit=500", bot.id),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn another_workspaces_chatbot_is_not_found() {
    let h = start(config()).await;
    let theirs: Page<Chatbot> =
        serde_json::from_value(h.get(keys::PRO, "/chatbots?limit=1").await.json).unwrap();
    let id = &theirs.data[0].id;
    for path in [
        format!("/chatbots/{id}"),
        format!("/chatbots/{id}/responses"),
    ] {
        let answer = h.get(keys::STARTER, &path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.json, json!({"error": "Chatbot not found"}));
    }
    let nobody = h
        .get(keys::STARTER, "/chatbots/000000000000000000000000")
        .await;
    assert_eq!(nobody.status, 404);
}

#[tokio::test]
async fn malformed_ids_unknown_paths_and_wrong_methods() {
    let h = start(config()).await;
    let bad_id = h.get(keys::STARTER, "/chatbots/123").await;
    assert_eq!(bad_id.status, 400);
    let error = bad_id.json["error"].as_str().unwrap();
    assert!(
        error.contains("chatbot id must be 24 hexadecimal digits"),
        "{error}"
    );

    let unknown = h.get(keys::STARTER, "/nope").await;
    assert_eq!(
        (unknown.status, unknown.json.clone()),
        (404, json!({"error": "Not found"}))
    );
    let outside = h
        .send(
            Method::GET,
            &format!("{}/other", h.sandbox.base_url()),
            None,
            None,
        )
        .await;
    assert_eq!(outside.status, 404);

    let delete = h
        .send(
            Method::DELETE,
            &h.api("/chatbots"),
            Some(keys::STARTER),
            None,
        )
        .await;
    assert_eq!(delete.status, 405);
    assert_eq!(delete.header("allow"), Some("GET"));
    let put = h
        .send(Method::PUT, &h.api("/webhooks"), Some(keys::STARTER), None)
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
}

#[tokio::test]
async fn usage_counts_admitted_calls_and_enterprise_is_unlimited() {
    let h = start(config()).await;
    h.get(keys::STARTER, "/chatbots").await;
    h.get(keys::STARTER, "/nope").await; // a 404 costs a call too
    h.send(Method::GET, &h.api("/usage"), Some("wrong"), None)
        .await; // a 401 does not
    let answer = h.get(keys::STARTER, "/usage").await;
    assert_eq!(answer.status, 200);
    let usage: DataEnvelope<Usage> = serde_json::from_value(answer.json.clone()).unwrap();
    let month = &conferbot::timestamp::format_iso8601_ms(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
    )[..7];
    assert_eq!(
        usage.data,
        Usage {
            month: month.to_owned(),
            plan: Plan::Starter,
            used: 3,
            limit: Limit::Calls(10_000),
            remaining: Limit::Calls(9_997),
        }
    );

    let enterprise = h.get(keys::ENTERPRISE, "/usage").await;
    assert_eq!(enterprise.json["data"]["plan"], "Enterprise");
    assert_eq!(enterprise.json["data"]["limit"], json!(null));
    assert_eq!(enterprise.json["data"]["remaining"], json!(null));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_other_ids() {
    let small = |seed| conferbot_sandbox::SandboxConfig {
        seed,
        chatbots_per_workspace: 12,
        ..config()
    };
    let (a, b, c) = (
        start(small(7)).await,
        start(small(7)).await,
        start(small(8)).await,
    );
    let list = |h: &common::Harness| {
        let url = h.api("/chatbots?limit=100");
        let client = h.client.clone();
        async move {
            let text = client
                .get(url)
                .header("x-api-key", keys::BUSINESS)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str::<Page<Chatbot>>(&text).unwrap()
        }
    };
    let (pa, pb, pc) = (list(&a).await, list(&b).await, list(&c).await);
    assert_eq!(pa.total, Some(12));
    assert_eq!(pa, pb);
    let ids = |p: &Page<Chatbot>| p.data.iter().map(|b| b.id.clone()).collect::<Vec<_>>();
    assert!(ids(&pa).iter().all(|id| !ids(&pc).contains(id)));
    let path = format!("/chatbots/{}/responses?limit=100", pa.data[0].id);
    assert_eq!(
        a.get(keys::BUSINESS, &path).await.raw,
        b.get(keys::BUSINESS, &path).await.raw
    );
}

#[tokio::test]
async fn stats_count_every_api_call_and_reset_clears_them() {
    let h = start(config()).await;
    h.get(keys::STARTER, "/chatbots").await;
    h.get(keys::STARTER, "/chatbots").await;
    h.get("nope", "/chatbots").await;
    let stats = h.sandbox.stats();
    assert_eq!(stats.api_calls, 3);
    assert_eq!(stats.by_status.get(&200), Some(&2));
    assert_eq!(stats.by_status.get(&401), Some(&1));
    assert_eq!(stats.rate_limited, 0);
    let wire = h.admin_get("/stats").await;
    assert_eq!(wire.json["apiCalls"], 3);
    assert_eq!(wire.json["byStatus"]["200"], 2);
    assert_eq!(wire.json["rateLimited"], 0);
    assert_eq!(wire.json["byOperation"], json!({"listChatbots": 3}));
    // Admin routes are not API calls.
    assert_eq!(h.sandbox.stats().api_calls, 3);

    h.create_webhook(
        keys::STARTER,
        "https://example.com/hook",
        &["response.created"],
    )
    .await;
    let reset = h.admin_post("/reset", json!({})).await;
    assert_eq!(reset.status, 200);
    assert_eq!(h.sandbox.stats().api_calls, 0);
    let hooks = h.get(keys::STARTER, "/webhooks").await;
    assert_eq!(hooks.json, json!({"data": []}));
}

#[tokio::test]
async fn extra_keys_are_workspaces_of_their_own() {
    let h = start(conferbot_sandbox::SandboxConfig {
        extra_keys: vec![("team-key".into(), Plan::Business)],
        chatbots_per_workspace: 3,
        ..config()
    })
    .await;
    let usage = h.get("team-key", "/usage").await;
    assert_eq!(usage.json["data"]["plan"], "Business");
    assert_eq!(h.get("team-key", "/chatbots").await.json["total"], 3);
    let keys = h.admin_get("/keys").await;
    assert_eq!(keys.json["data"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn the_router_answers_without_a_socket() {
    use tower::ServiceExt;
    let request = axum::http::Request::get("/api/v1/external/v1/usage")
        .header("x-api-key", keys::PRO)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = conferbot_sandbox::router(config())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let usage: DataEnvelope<Usage> = serde_json::from_slice(&body).unwrap();
    assert_eq!((usage.data.plan, usage.data.used), (Plan::Pro, 1));
}
