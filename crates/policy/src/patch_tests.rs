//! Every event × every cached read, and what the patches keep.

use conferbot::PageRequest;

use super::*;

const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";
const OTHER: &str = "64f8a2b3c1d4e5f6a7b8c9d1";
const RESPONSE: &str = "65a1b2c3d4e5f6a7b8c9d0e1";
const ELSEWHERE: &str = "65a1b2c3d4e5f6a7b8c9d0e2";

fn id(raw: &str) -> ObjectId {
    ObjectId::parse(raw, "id").unwrap()
}

fn target(operation: Operation, ids: &[&str]) -> Target {
    Target {
        operation,
        ids: ids.iter().map(|raw| id(raw)).collect(),
        page: operation.is_paginated().then(PageRequest::default),
    }
}

fn facts(event: WebhookEvent, bot: Option<&str>, response: Option<&str>) -> DeliveryFacts {
    DeliveryFacts {
        event,
        bot: bot.map(id),
        response: response.map(id),
    }
}

fn chatbot(raw_id: &str, count: u64) -> String {
    format!(
        r#"{{"id":"{raw_id}","name":"Acme, \"Support\"","status":"active","responseCount":{count},"createdAt":"2024-09-01T10:30:00.000Z","updatedAt":"2024-09-02T10:30:00.000Z"}}"#
    )
}

/// A page of chatbots as the upstream writes it (`total` after `data`, the
/// reference's order).
fn chatbots_page(items: &[(&str, u64)]) -> String {
    let data: Vec<String> = items.iter().map(|(i, n)| chatbot(i, *n)).collect();
    format!(
        r#"{{"data":[{}],"total":137,"page":1,"totalPages":7}}"#,
        data.join(",")
    )
}

fn responses_page(ids: &[&str]) -> String {
    let data: Vec<String> = ids
        .iter()
        .map(|i| format!(r#"{{"id":"{i}","chatbotId":"{BOT}","answers":{{"q":[1,2.50]}}}}"#))
        .collect();
    format!(
        r#"{{"data":[{}],"total":9,"page":1,"totalPages":1}}"#,
        data.join(",")
    )
}

const USAGE: &str =
    r#"{"data":{"month":"2025-01","plan":"Starter","used":1423,"limit":10000,"remaining":8577}}"#;
const WEBHOOKS: &str = r#"{"data":[]}"#;

fn patched(effect: Effect) -> String {
    match effect {
        Effect::Patched(body) => String::from_utf8(body).unwrap(),
        other => panic!("expected a patch, got {other:?}"),
    }
}

/// Each cached read of the table, with its answer.
fn reads() -> Vec<(&'static str, Target, String)> {
    vec![
        (
            "chatbots page with X",
            target(Operation::ListChatbots, &[]),
            chatbots_page(&[(OTHER, 3), (BOT, 41)]),
        ),
        (
            "chatbots page without X",
            target(Operation::ListChatbots, &[]),
            chatbots_page(&[(OTHER, 3)]),
        ),
        (
            "getChatbot X",
            target(Operation::GetChatbot, &[BOT]),
            format!(r#"{{"data":{}}}"#, chatbot(BOT, 41)),
        ),
        (
            "getChatbot other",
            target(Operation::GetChatbot, &[OTHER]),
            format!(r#"{{"data":{}}}"#, chatbot(OTHER, 3)),
        ),
        (
            "responses of X holding R",
            target(Operation::ListResponses, &[BOT]),
            responses_page(&[ELSEWHERE, RESPONSE]),
        ),
        (
            "responses of X without R",
            target(Operation::ListResponses, &[BOT]),
            responses_page(&[ELSEWHERE]),
        ),
        (
            "responses of other",
            target(Operation::ListResponses, &[OTHER]),
            responses_page(&[RESPONSE]),
        ),
        ("usage", target(Operation::GetUsage, &[]), USAGE.to_owned()),
        (
            "webhooks",
            target(Operation::ListWebhooks, &[]),
            WEBHOOKS.to_owned(),
        ),
    ]
}

/// What each event does to each read, in the order of [`reads`]; `+` is a
/// patch (checked in detail below), `=` unchanged, `S` stale.
#[test]
fn every_event_against_every_cached_read() {
    let table: [(DeliveryFacts, &str); 7] = [
        (
            facts(WebhookEvent::ResponseCreated, Some(BOT), Some(RESPONSE)),
            "+=+=SS===",
        ),
        (
            facts(WebhookEvent::ResponseUpdated, Some(BOT), Some(RESPONSE)),
            "====S====",
        ),
        (
            facts(WebhookEvent::ConversationStarted, Some(BOT), None),
            "=========",
        ),
        (
            facts(WebhookEvent::ConversationCompleted, Some(BOT), None),
            "=========",
        ),
        // Not narrowed: every read the event touches is stale.
        (
            facts(WebhookEvent::ResponseCreated, None, Some(RESPONSE)),
            "SSSSSSS==",
        ),
        (
            facts(WebhookEvent::ResponseUpdated, Some(BOT), None),
            "====SS===",
        ),
        (
            facts(WebhookEvent::ResponseUpdated, None, Some(RESPONSE)),
            "====SSS==",
        ),
    ];
    for (facts, expected) in table {
        let got: String = reads()
            .iter()
            .map(
                |(_, target, body)| match effect(&facts, target, body.as_bytes()) {
                    Effect::Unchanged => '=',
                    Effect::Patched(_) => '+',
                    Effect::Stale => 'S',
                },
            )
            .collect();
        assert_eq!(
            got,
            expected,
            "{:?} bot {:?} response {:?}; reads {:?}",
            facts.event,
            facts.bot,
            facts.response,
            reads().iter().map(|(name, _, _)| *name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_new_response_adds_one_to_its_chatbot_and_changes_nothing_else() {
    let created = facts(WebhookEvent::ResponseCreated, Some(BOT), Some(RESPONSE));
    let page = chatbots_page(&[(OTHER, 3), (BOT, 41)]);
    let list = target(Operation::ListChatbots, &[]);
    let once = patched(effect(&created, &list, page.as_bytes()));
    assert_eq!(
        once,
        chatbots_page(&[(OTHER, 3), (BOT, 42)]),
        "one byte-exact change"
    );
    let twice = patched(effect(&created, &list, once.as_bytes()));
    assert_eq!(twice, chatbots_page(&[(OTHER, 3), (BOT, 43)]));

    let one = format!(r#"{{"data":{}}}"#, chatbot(BOT, 0));
    let record = patched(effect(
        &created,
        &target(Operation::GetChatbot, &[BOT]),
        one.as_bytes(),
    ));
    assert_eq!(record, format!(r#"{{"data":{}}}"#, chatbot(BOT, 1)));
}

#[test]
fn patches_keep_member_order_unknown_fields_and_value_text() {
    let created = facts(WebhookEvent::ResponseCreated, Some(BOT), None);
    let page = format!(
        r#"{{"page":1,"data":[{{"zeta":1.50,"responseCount":7,"id":"{BOT}","extra":{{"b":[],"a":"\u00e9"}}}}],"total":1}}"#
    );
    let got = patched(effect(
        &created,
        &target(Operation::ListChatbots, &[]),
        page.as_bytes(),
    ));
    assert_eq!(
        got,
        page.replace("\"responseCount\":7", "\"responseCount\":8")
    );
}

#[test]
fn answers_of_another_shape_are_stale_not_guessed() {
    let created = facts(WebhookEvent::ResponseCreated, Some(BOT), None);
    let list = target(Operation::ListChatbots, &[]);
    let one = target(Operation::GetChatbot, &[BOT]);
    for (target, body) in [
        (&list, "not json".to_owned()),
        (&list, r#"{"items":[]}"#.to_owned()),
        (
            &list,
            format!(r#"{{"data":[{{"id":"{BOT}","responseCount":"41"}}]}}"#),
        ),
        (&list, format!(r#"{{"data":[{{"id":"{BOT}"}}]}}"#)),
        (
            &list,
            format!(r#"{{"data":[{{"id":"{BOT}","responseCount":-1}}]}}"#),
        ),
        (&one, format!(r#"{{"data":{}}}"#, chatbot(OTHER, 1))),
        (&one, r#"{"data":null}"#.to_owned()),
    ] {
        assert_eq!(
            effect(&created, target, body.as_bytes()),
            Effect::Stale,
            "{body}"
        );
    }
    // An updated response on a page that cannot be read: stale.
    let updated = facts(WebhookEvent::ResponseUpdated, Some(BOT), Some(RESPONSE));
    let responses = target(Operation::ListResponses, &[BOT]);
    assert_eq!(effect(&updated, &responses, b"{}"), Effect::Stale);
}

#[test]
fn the_facts_of_the_references_delivery_name_its_chatbot_and_response() {
    let raw = r#"{"event":"response.created","chatSessionId":"sess_abc123def456","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_xyz789","timestamp":"2024-12-15T09:30:00.000Z"}"#;
    let delivery: WebhookDelivery = serde_json::from_str(raw).unwrap();
    assert_eq!(
        DeliveryFacts::of(&delivery),
        facts(WebhookEvent::ResponseCreated, Some(BOT), Some(RESPONSE))
    );
    assert!(touched(&WebhookEvent::ConversationStarted).is_empty());
    assert_eq!(dropped(&WebhookEvent::ResponseUpdated).len(), 3);
}
