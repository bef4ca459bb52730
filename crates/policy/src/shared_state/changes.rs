//! What a change does to the answers replicas hold in Redis, computed here
//! (by the same patch rules as the in-process table) and applied by a script
//! tied to the delivery's dedup marker (`publish.lua`), or by
//! `invalidate.lua` for writes.
//!
//! A server reads the held answers a change may touch (the members of each
//! touched operation's index under [`Invalidation::key_prefixes`], then
//! their `answer` fields), calls [`held_changes`], and passes each change's
//! key, the answer as read and the patched answer ('' for stale) to
//! `publish.lua`, which patches only answers still as read.

use crate::cache_key::target_of;
use crate::invalidation::{Effect, Invalidation};
use crate::shared_state::keys;
use crate::shared_state::wire::WireAnswer;

/// One held answer to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldChange {
    /// Its cache key (after the prefix and `cache:`).
    pub key: String,
    /// The `answer` field as read.
    pub read: String,
    /// The patched `answer` field; `None`: mark it stale.
    pub patched: Option<String>,
}

/// Whether the shared key `member` (an index member: `{prefix}cache:{key}`)
/// may be touched by `change`, and its cache key if so.
pub fn touched_key<'a>(change: &Invalidation, prefix: &str, member: &'a str) -> Option<&'a str> {
    let key = member.strip_prefix(prefix)?.strip_prefix(keys::CACHE)?;
    change
        .key_prefixes()
        .iter()
        .any(|(_, p)| key.starts_with(p.as_str()))
        .then_some(key)
}

/// The changes `change` makes to `held` answers (cache key, `answer` field).
pub fn held_changes<'a>(
    change: &Invalidation,
    held: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<HeldChange> {
    held.into_iter()
        .filter_map(|(key, read)| {
            let patched = match target_of(key) {
                None => None,
                Some(target) => match WireAnswer::decode(read.as_bytes()) {
                    None => None,
                    Some(answer) => match change.effect(&target, answer.body.as_bytes()) {
                        Effect::Unchanged => return None,
                        Effect::Stale => None,
                        Effect::Patched(body) => {
                            Some(WireAnswer::new(answer.status, answer.retry_after, &body).encode())
                        }
                    },
                },
            };
            Some(HeldChange {
                key: key.to_owned(),
                read: read.to_owned(),
                patched,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use conferbot::{WebhookDelivery, WebhookEvent};

    use super::*;

    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

    #[test]
    fn patches_what_the_rules_patch_marks_what_they_make_stale() {
        let mut delivery =
            WebhookDelivery::new(WebhookEvent::ResponseCreated, "2024-12-15T09:30:00.000Z");
        delivery.bot_id = Some(BOT.into());
        let change = Invalidation::of_delivery(&delivery);
        let page = WireAnswer::new(
            200,
            None,
            format!(r#"{{"data":[{{"id":"{BOT}","responseCount":2}}]}}"#).as_bytes(),
        )
        .encode();
        let responses = WireAnswer::new(200, None, br#"{"data":[]}"#).encode();
        let usage = WireAnswer::new(200, None, b"{}").encode();
        let responses_key = format!("listResponses:{BOT}:page=1&limit=20");
        let changes = held_changes(
            &change,
            [
                ("listChatbots::page=1&limit=20", page.as_str()),
                (responses_key.as_str(), responses.as_str()),
                ("getUsage::", usage.as_str()),
                ("garbage", usage.as_str()),
            ],
        );
        assert_eq!(changes.len(), 3);
        let patched = WireAnswer::decode(changes[0].patched.as_ref().unwrap().as_bytes()).unwrap();
        assert!(
            patched.body.contains("\"responseCount\":3"),
            "{}",
            patched.body
        );
        assert_eq!(changes[0].read, page);
        assert_eq!(changes[1].patched, None, "responses go stale");
        assert_eq!(
            (changes[2].key.as_str(), &changes[2].patched),
            ("garbage", &None)
        );

        let prefix = "conferbot-bff:{x}:";
        let member = format!("{prefix}cache:listResponses:{BOT}:page=1&limit=20");
        assert_eq!(
            touched_key(&change, prefix, &member),
            Some(responses_key.as_str())
        );
        let other = format!("{prefix}cache:listResponses:64f8a2b3c1d4e5f6a7b8c9d1:page=1&limit=20");
        assert_eq!(touched_key(&change, prefix, &other), None);
    }
}
