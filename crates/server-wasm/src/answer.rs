//! What one request or one upstream call came to, as JS holds it: an
//! upstream answer the policy let through (shared by the cache and by every
//! request that joined the call), or the BFF's own error; and [`Held`], an
//! answer served from what the cache holds, with its age.

use std::rc::Rc;

use conferbot_policy::cache_table::CachedAnswer;
use conferbot_policy::quota;
use conferbot_policy::secret_scan::SecretScanner;
use conferbot_policy::shared_state::wire::WireAnswer;
use conferbot_policy::upstream_answer::{self, Checked, CheckedBody};
use conferbot_policy::BffError;
use wasm_bindgen::prelude::*;

/// A checked upstream answer: its status, JSON body and `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerData {
    /// The upstream's status.
    pub status: u16,
    /// JSON: the upstream's own for successes, the API error format otherwise.
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when the upstream sent a number.
    pub retry_after: Option<u64>,
    /// How long the call waited for the rate window, in ms (said to the
    /// request that made it and those who joined it; not to later hits).
    pub queued_ms: Option<u64>,
    /// The upstream's `Date` header as Unix ms, whose clock turns its month
    /// (read by JS's own `Date.parse`).
    pub date_ms: Option<i64>,
}

/// An answer, or why there is none.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub(crate) Result<Rc<AnswerData>, BffError>);

#[wasm_bindgen]
impl Outcome {
    /// The HTTP status the client gets.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> u16 {
        match &self.0 {
            Ok(answer) => answer.status,
            Err(err) => err.status(),
        }
    }

    /// `Retry-After` in seconds, if any (the upstream's or the BFF's own).
    #[wasm_bindgen(getter, js_name = retryAfter)]
    pub fn retry_after(&self) -> Option<f64> {
        match &self.0 {
            Ok(answer) => answer.retry_after.map(|s| s as f64),
            Err(err) => err.answer().retry_after.map(|s| s as f64),
        }
    }

    /// Whether the upstream answered 2xx.
    #[wasm_bindgen(getter, js_name = isSuccess)]
    pub fn is_success(&self) -> bool {
        self.0
            .as_ref()
            .is_ok_and(|a| (200..300).contains(&a.status))
    }

    /// Whether the upstream answered `429` for the minute (the window
    /// pauses, the call may repeat); a refusal for the month is not one.
    #[wasm_bindgen(getter, js_name = isRateLimited)]
    pub fn is_rate_limited(&self) -> bool {
        self.0.as_ref().is_ok_and(|a| a.status == 429) && !self.is_monthly_refusal()
    }

    /// Another handle on the same answer, for a second owner (a request
    /// that joined the call): the answer is shared, not copied, and each
    /// handle is freed on its own. JS frees every handle it is given as
    /// soon as it is done with it: a handle left to the garbage collector
    /// keeps its answer in the wasm memory, which never shrinks.
    pub fn duplicate(&self) -> Outcome {
        self.clone()
    }
}

impl Outcome {
    /// What the policy lets through of an upstream answer (its `Date`
    /// header kept for the quota, its wait for the window for the reply).
    pub fn checked(
        status: u16,
        retry_after: Option<&str>,
        raw: Vec<u8>,
        key: &SecretScanner,
        (date_ms, queued_ms): (Option<i64>, Option<u64>),
    ) -> Self {
        let retry_after = upstream_answer::retry_after(retry_after.map(str::as_bytes));
        let checked = upstream_answer::check(status, &raw, retry_after, key);
        Self(checked.map(
            |Checked {
                 status,
                 body,
                 retry_after,
             }| {
                Rc::new(AnswerData {
                    status,
                    body: match body {
                        CheckedBody::AsSent => raw,
                        CheckedBody::Rewritten(body) => body,
                    },
                    retry_after,
                    queued_ms,
                    date_ms,
                })
            },
        ))
    }

    /// Whether it is the upstream's refusal for the month.
    pub fn is_monthly_refusal(&self) -> bool {
        self.0
            .as_ref()
            .is_ok_and(|a| quota::is_monthly_refusal(a.status, &a.body))
    }

    /// As written into Redis (an error becomes its answer, as the BFF shares it).
    pub fn to_wire(&self) -> WireAnswer {
        match &self.0 {
            Ok(answer) => WireAnswer::new(answer.status, answer.retry_after, &answer.body),
            Err(err) => {
                let answer = err.answer();
                WireAnswer::new(answer.status, answer.retry_after, &answer.body)
            }
        }
    }

    /// As read back from Redis.
    pub fn from_wire(wire: WireAnswer) -> Self {
        Self(Ok(Rc::new(AnswerData {
            status: wire.status,
            body: wire.body.into_bytes(),
            retry_after: wire.retry_after,
            queued_ms: None,
            date_ms: None,
        })))
    }
}

impl CachedAnswer for Outcome {
    fn status(&self) -> u16 {
        Outcome::status(self)
    }

    fn body(&self) -> &[u8] {
        match &self.0 {
            Ok(answer) => &answer.body,
            Err(_) => b"",
        }
    }

    fn with_body(&self, body: Vec<u8>) -> Self {
        match &self.0 {
            Ok(answer) => Self(Ok(Rc::new(AnswerData {
                body,
                ..AnswerData::clone(answer)
            }))),
            Err(err) => Self(Err(err.clone())),
        }
    }
}

/// An answer served from what the cache holds: a hit, a stale answer, or
/// the answer held before a call that failed.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Held {
    pub(crate) outcome: Outcome,
    pub(crate) age_ms: u64,
}

#[wasm_bindgen]
impl Held {
    /// The answer.
    #[wasm_bindgen(getter)]
    pub fn outcome(&self) -> Outcome {
        self.outcome.clone()
    }

    /// Milliseconds since it was fetched upstream.
    #[wasm_bindgen(getter, js_name = ageMs)]
    pub fn age_ms(&self) -> f64 {
        self.age_ms as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_and_errors_keep_their_status() {
        let key = SecretScanner::new(["sk-test"]);
        let none = (None, None);
        let ok = Outcome::checked(200, None, b"{\"data\":[]}".to_vec(), &key, none);
        assert!(ok.is_success() && !ok.is_rate_limited());
        let limited = Outcome::checked(
            429,
            Some("7"),
            b"{\"error\":\"Rate limit exceeded\"}".to_vec(),
            &key,
            none,
        );
        assert_eq!((limited.status(), limited.retry_after()), (429, Some(7.0)));
        let leak = Outcome::checked(200, None, b"{\"k\":\"sk-test\"}".to_vec(), &key, none);
        assert_eq!(leak.status(), 502);
        let back = Outcome::from_wire(limited.to_wire());
        assert_eq!(back, limited);
        let monthly = Outcome::checked(
            429,
            Some("3600"),
            b"{\"error\":\"Monthly API limit reached\"}".to_vec(),
            &key,
            (Some(784_111_777_000), Some(5)),
        );
        assert!(monthly.is_monthly_refusal() && !monthly.is_rate_limited());
        let patched = ok.with_body(b"{\"data\":[1]}".to_vec());
        assert_eq!(
            (patched.status(), patched.body()),
            (200, &b"{\"data\":[1]}"[..])
        );
    }
}
