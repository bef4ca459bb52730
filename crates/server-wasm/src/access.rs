//! Who may come in, and who they are, as `conferbot-bff`'s access layers
//! decide it (`crates/bff/src/http/access.rs`), from what JS knows of a
//! request:
//!
//! - [`Policy::host_refusal`] (every request the handler answers): the
//!   `Host` must be an allowed host (`allowHosts`, against DNS rebinding),
//!   refused before anything else and outside the mount's layers.
//! - [`Policy::caller`]: the client, from the peer's address (when the
//!   runtime tells it) and, behind `trustedProxies`, `X-Forwarded-For`; or
//!   the user the `authorize(request)` hook named, whose answer is decided
//!   as forward-auth's is (allowed, `401`/`403` passed back, anything else
//!   `503`: fail closed). The client is what the rate window is fair
//!   between, and what `clientMonthlyCalls` caps.

use std::net::IpAddr;

use conferbot_policy::auth::{decide, outcome};
use conferbot_policy::client::{client_ip, ClientId};
use conferbot_policy::BffError;
use wasm_bindgen::prelude::*;

use crate::combined_headers::CombinedHeaders;
use crate::cors::Cors;
use crate::policy::Policy;
use crate::reply::Reply;

/// Who a request is from, or why it may not come in.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Caller(pub(crate) Result<ClientId, BffError>);

#[wasm_bindgen]
impl Caller {
    /// The identity fairness and the monthly caps count by (`ip:…`,
    /// `user:…`, `unknown`), or nothing when refused.
    #[wasm_bindgen(getter)]
    pub fn client(&self) -> Option<String> {
        self.0.as_ref().ok().map(|c| c.as_str().to_owned())
    }
}

#[wasm_bindgen]
impl Policy {
    /// The refusal of a request whose `host` (its `Host` header, or its
    /// URL's authority) is not allowed (`403`) or missing (`400`), as it is
    /// sent: before routing, CORS or any other layer.
    #[wasm_bindgen(js_name = hostRefusal)]
    pub fn host_refusal(&self, host: Option<String>) -> Option<Reply> {
        let hosts = CombinedHeaders::new([("host", host)]);
        let mut values = conferbot_policy::HeaderLookup::values(&hosts, "host").peekable();
        let verdict = if values.peek().is_none() {
            self.hosts.check(None)
        } else {
            values.try_for_each(|value| {
                self.hosts
                    .check(Some(std::str::from_utf8(value).unwrap_or("")))
            })
        };
        verdict.err().map(|err| Reply::error(&err))
    }

    /// Whether a request with `method` is a CORS preflight, answered before
    /// the `authorize` hook (a preflight carries no credentials).
    #[wasm_bindgen(js_name = isPreflight)]
    pub fn is_preflight(&self, method: &str) -> bool {
        self.cors.is_some() && Cors::is_preflight(method)
    }

    /// Who a request is from: the user the `authorize` hook named, when it
    /// let the request through (`auth_status` 2xx; 401 and 403 are its
    /// refusals, anything else its failure; 0: no hook), else the client at
    /// `peer` (the connection's address, when the runtime gives it), or
    /// behind a trusted proxy the first untrusted hop of `forwarded_for`.
    pub fn caller(
        &self,
        peer: Option<String>,
        forwarded_for: Option<String>,
        auth_status: u16,
        user: Option<String>,
    ) -> Caller {
        if auth_status != 0 {
            match decide(&outcome(auth_status, user.as_deref().map(str::as_bytes))) {
                Ok(Some(user)) => return Caller(Ok(user)),
                Ok(None) => {}
                Err(err) => return Caller(Err(err)),
            }
        }
        let peer = peer.and_then(|p| p.trim().parse::<IpAddr>().ok());
        let client = match peer {
            Some(peer) => {
                let headers = CombinedHeaders::new([("x-forwarded-for", forwarded_for)]);
                ClientId::ip(client_ip(peer, &headers, &self.proxies))
            }
            None => ClientId::unknown(),
        };
        Caller(Ok(client))
    }
}

impl Policy {
    /// The refusal of an `authorize` hook, as it is sent: with the mount's
    /// always-set headers and CORS, without the quota headers (a refused
    /// request learns nothing of the quota).
    pub(crate) fn refused(&self, err: &BffError, origin: Option<&str>) -> Reply {
        Reply::error(err).under_mount(self.cors.as_ref(), origin)
    }
}
