//! What one request or one upstream call came to, as JS holds it: an
//! upstream answer the policy let through (shared by the cache and by every
//! request that joined the call), or the BFF's own error.

use std::rc::Rc;

use conferbot_policy::cache_table::CachedAnswer;
use conferbot_policy::shared_state::wire::WireAnswer;
use conferbot_policy::upstream_answer::{self, Checked, CheckedBody, KeyScanner};
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

    /// Whether the upstream answered `429` (the window pauses, the call may repeat).
    #[wasm_bindgen(getter, js_name = isRateLimited)]
    pub fn is_rate_limited(&self) -> bool {
        self.0.as_ref().is_ok_and(|a| a.status == 429)
    }
}

impl Outcome {
    /// What the policy lets through of an upstream answer.
    pub fn checked(status: u16, retry_after: Option<&str>, raw: Vec<u8>, key: &KeyScanner) -> Self {
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
                })
            },
        ))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_and_errors_keep_their_status() {
        let key = KeyScanner::new("sk-test");
        let ok = Outcome::checked(200, None, b"{\"data\":[]}".to_vec(), &key);
        assert!(ok.is_success() && !ok.is_rate_limited());
        let limited = Outcome::checked(
            429,
            Some("7"),
            b"{\"error\":\"Rate limit exceeded\"}".to_vec(),
            &key,
        );
        assert_eq!((limited.status(), limited.retry_after()), (429, Some(7.0)));
        let leak = Outcome::checked(200, None, b"{\"k\":\"sk-test\"}".to_vec(), &key);
        assert_eq!(leak.status(), 502);
        let back = Outcome::from_wire(limited.to_wire());
        assert_eq!(back, limited);
    }
}
