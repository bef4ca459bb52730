//! A whole answer as `conferbot-bff` would send it: status, headers, body.
//!
//! The builders follow the BFF's `http::respond` (errors with `Allow` and
//! `Retry-After`, relayed answers rebuilt with `content-type`, `retry-after`,
//! `x-cache`, `age` and `x-quota-queued-ms`); [`Reply::under_mount`] then
//! applies the layers every answer under the mount passes: the
//! response-header allowlist, the always-set headers, and CORS when origins
//! are configured (the quota headers come before them,
//! `Policy::mount_reply`). Answers outside the mount (the webhook receiver,
//! the `404` for other paths) skip those layers, as the BFF's do.

use conferbot::protocol::bff::QUEUED_MS_HEADER;
use conferbot_policy::error::ErrorAnswer;
use conferbot_policy::headers::{self, answer_headers, CacheStatus, ALWAYS, JSON};
use conferbot_policy::BffError;
use wasm_bindgen::prelude::*;

use crate::answer::Outcome;
use crate::cors::{self, Cors, Pairs};

/// An answer for JS to send as it is.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Pairs,
    pub(crate) body: Vec<u8>,
}

#[wasm_bindgen]
impl Reply {
    /// The HTTP status.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers as one string, `name\nvalue\nname\nvalue…`: one
    /// string across the boundary rather than one per name and per value.
    /// A field value never holds a line break (RFC 9110 §5.5 forbids CR, LF
    /// and NUL; the runtimes refuse to send one): a pair that would is left
    /// out rather than let it shift the others.
    #[wasm_bindgen(getter, js_name = headerLines)]
    pub fn header_lines(&self) -> String {
        let mut lines = String::new();
        for (name, value) in &self.headers {
            if name.contains('\n') || value.contains('\n') {
                continue;
            }
            if !lines.is_empty() {
                lines.push('\n');
            }
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(value);
        }
        lines
    }

    /// The body, taken out: JS reads it once, so it is moved rather than copied.
    #[wasm_bindgen(js_name = takeBody)]
    pub fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }
}

impl Reply {
    /// A JSON answer with `status` and `body`.
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), JSON.to_owned())],
            body,
        }
    }

    /// The BFF's own error answer: the API's format, `Allow`, `Retry-After`.
    pub fn error(err: &BffError) -> Self {
        let ErrorAnswer {
            status,
            retry_after,
            allow,
            body,
        } = err.answer();
        let mut reply = Self::json(status, body);
        if let Some(allow) = allow {
            reply.headers.push(("allow".to_owned(), allow));
        }
        if let Some(secs) = retry_after {
            reply
                .headers
                .push(("retry-after".to_owned(), secs.to_string()));
        }
        reply
    }

    /// What the client gets for `outcome`: a relayed answer rebuilt by the
    /// policy (with `x-cache` for reads and `age`, `age_ms` old, for answers
    /// from the cache), or the error.
    pub fn outcome(outcome: &Outcome, cache: Option<CacheStatus>, age_ms: Option<u64>) -> Self {
        match &outcome.0 {
            Ok(answer) => {
                let policy = answer_headers(answer.retry_after, cache, age_ms);
                let mut headers: Pairs = policy
                    .pairs()
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v))
                    .collect();
                // The wait belongs to the call: only those who made or joined it waited.
                let waited = match cache {
                    None | Some(CacheStatus::Miss | CacheStatus::Coalesced) => answer.queued_ms,
                    Some(CacheStatus::Hit | CacheStatus::Stale) => None,
                };
                if let Some(ms) = waited.filter(|ms| *ms > 0) {
                    headers.push((QUEUED_MS_HEADER.to_owned(), ms.to_string()));
                }
                Self {
                    status: answer.status,
                    headers,
                    body: answer.body.clone(),
                }
            }
            Err(err) => Self::error(err),
        }
    }

    /// Sets the headers `pairs` (replacing what they name).
    pub fn set_all(&mut self, pairs: Vec<(&'static str, String)>) {
        for (name, value) in pairs {
            cors::set(&mut self.headers, name, value);
        }
    }

    /// An empty `200` with `headers` (a CORS preflight).
    pub fn empty(headers: Pairs) -> Self {
        Self {
            status: 200,
            headers,
            body: Vec::new(),
        }
    }

    /// Through the layers of the mount: only allowlisted headers, the
    /// always-set ones, then CORS for a request from `origin`.
    pub fn under_mount(mut self, cors: Option<&Cors>, origin: Option<&str>) -> Self {
        self.headers.retain(|(name, _)| headers::allowed(name));
        for (name, value) in ALWAYS {
            cors::set(&mut self.headers, name, value.to_owned());
        }
        if let Some(cors) = cors {
            cors.decorate(origin, &mut self.headers);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use conferbot::Method;

    use super::*;

    fn value<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn errors_under_the_mount_carry_allow_and_the_always_headers() {
        let reply =
            Reply::error(&BffError::MethodNotAllowed(vec![Method::Get])).under_mount(None, None);
        assert_eq!(reply.status, 405);
        assert_eq!(value(&reply, "allow"), Some("GET"));
        assert_eq!(value(&reply, "x-content-type-options"), Some("nosniff"));
        assert_eq!(value(&reply, "cache-control"), Some("no-store"));
        assert_eq!(value(&reply, "content-type"), Some("application/json"));
    }

    #[test]
    fn header_lines_pair_names_and_values_and_leave_out_what_cannot_be_sent() {
        let mut reply = Reply::json(200, b"{}".to_vec());
        reply.headers.push(("x-cache".into(), "miss".into()));
        reply.headers.push(("x-bad".into(), "a\nb".into()));
        assert_eq!(
            reply.header_lines(),
            "content-type\napplication/json\nx-cache\nmiss"
        );
        assert_eq!(Reply::empty(Vec::new()).header_lines(), "");
        assert_eq!(reply.take_body(), b"{}");
        assert!(reply.body.is_empty());
    }

    #[test]
    fn the_allowlist_drops_what_is_not_on_it_and_always_wins() {
        let mut reply = Reply::json(200, b"{}".to_vec());
        reply.headers.push(("set-cookie".into(), "a=1".into()));
        reply
            .headers
            .push(("cache-control".into(), "no-cache".into()));
        let reply = reply.under_mount(None, None);
        assert_eq!(value(&reply, "set-cookie"), None);
        assert_eq!(value(&reply, "cache-control"), Some("no-store"));
    }
}
