//! What of an upstream answer goes back to the browser
//! (`conferbot_policy::upstream_answer::check`), for a fuzzed status, body
//! and `Retry-After`.
//!
//! The input is an answer as text (`conferbot_fuzz::message`): the first
//! word of the first line is the status, then headers (`retry-after`), a
//! blank line, the body; `{key}` and `{secret}` in the body become the API
//! key and the webhook secret. Checked:
//! - nothing that goes back contains either: not in the bytes, and not in
//!   any string the browser's `JSON.parse` would make of them;
//! - a success goes back as sent only when it is JSON; an error goes back
//!   re-written in the API's format; any other status is refused (502);
//! - `Retry-After` is passed on as the number the upstream sent, and the
//!   answer's headers all pass the response allowlist.

#![no_main]

use conferbot::ApiErrorBody;
use conferbot_fuzz::message::Message;
use conferbot_policy::headers::{self, answer_headers, CacheStatus};
use conferbot_policy::secret_scan::SecretScanner;
use conferbot_policy::upstream_answer::{self, check, CheckedBody};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The key, with characters JSON encoders escape (`/` as PHP writes it,
/// `+`) so that its escaped spellings are reachable.
const KEY: &str = "sk_live/fuzz+0123456789abcdef";
/// The webhook secret, scanned for the same way.
const SECRET: &str = "whsec_fuzz/0123456789";

fuzz_target!(|data: &[u8]| {
    let message = Message::parse(data);
    let status: u16 = message.method.parse().unwrap_or(200);
    let body = replace(&message.body, b"{key}", KEY.as_bytes());
    let body = replace(&body, b"{secret}", SECRET.as_bytes());
    let retry_after =
        upstream_answer::retry_after(message.header("retry-after").map(str::as_bytes));
    let scanner = SecretScanner::new([KEY, SECRET]);
    match check(status, &body, retry_after, &scanner) {
        Err(err) => assert_eq!(err.status(), 502, "{err:?}"),
        Ok(checked) => {
            assert_eq!(checked.status, status);
            assert_eq!(checked.retry_after, retry_after);
            let sent = match &checked.body {
                CheckedBody::AsSent => {
                    assert!((200..300).contains(&status));
                    body.clone()
                }
                CheckedBody::Rewritten(rewritten) => {
                    assert!((400..600).contains(&status));
                    let error: ApiErrorBody =
                        serde_json::from_slice(rewritten).expect("the API's error format");
                    assert!(!error.error.is_empty());
                    rewritten.clone()
                }
            };
            assert!(
                serde_json::from_slice::<serde::de::IgnoredAny>(&sent).is_ok(),
                "what goes back is JSON"
            );
            for secret in [KEY, SECRET] {
                assert!(!contains(&sent, secret.as_bytes()), "{secret} went back");
            }
            // serde_json's Value has no numbers out of f64's range (6E666,
            // which JSON.parse reads as Infinity): such bodies are checked
            // in their bytes only.
            match serde_json::from_slice::<Value>(&sent) {
                Ok(value) => {
                    for secret in [KEY, SECRET] {
                        assert!(
                            !mentions(&value, secret),
                            "{secret} went back, JSON-escaped"
                        );
                    }
                }
                Err(err) => assert!(err.to_string().starts_with("number out of range"), "{err}"),
            }
            let statuses = CacheStatus::ALL.map(Some);
            for cache in statuses.into_iter().chain([None]) {
                let pairs = answer_headers(checked.retry_after, cache, Some(1_500)).pairs();
                assert!(pairs.iter().all(|(name, _)| headers::allowed(name)));
            }
        }
    }
});

/// Whether a string (key or value) anywhere in `value` contains `key`.
fn mentions(value: &Value, key: &str) -> bool {
    match value {
        Value::String(s) => s.contains(key),
        Value::Array(items) => items.iter().any(|v| mentions(v, key)),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains(key) || mentions(v, key)),
        _ => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn replace(raw: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}
