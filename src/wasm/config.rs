//! The client's settings, read once from `ClientOptions`.
//!
//! Two modes: through the BFF (no key; the default in browsers, base URL
//! [`BFF_MOUNT`] on the page's own origin), or direct (an `apiKey`, sent as
//! `x-api-key`, base URL [`DEFAULT_BASE_URL`]), meant for Node scripts. A key
//! in a browser is visible to every visitor, so it is refused there unless
//! the caller opts in with `dangerouslyAllowBrowser: true`.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::endpoint::Method;
use crate::error::Error;
use crate::protocol::api::{API_KEY_HEADER, DEFAULT_BASE_URL};
use crate::protocol::bff::{BFF_MOUNT, CSRF_HEADER};
use crate::retry::RetryPolicy;

use super::calls::CallPolicy;
use super::fields::Fields;

/// Longest timeout accepted: `setTimeout` fires at once beyond a signed 32-bit delay.
pub(crate) const MAX_TIMEOUT_MS: u32 = i32::MAX as u32;
/// Default time one attempt may take.
pub(crate) const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// Most retries a caller may ask for; more would only hammer a failing server.
pub(crate) const MAX_RETRIES: u32 = 10;

const BROWSER_KEY_REFUSAL: &str = "refusing to send an API key from a browser: every visitor of the page could read it. Call the conferbot BFF instead (omit apiKey; baseUrl defaults to /api/conferbot), or pass dangerouslyAllowBrowser: true if you really mean it";
const NODE_NEEDS_BASE: &str = "outside a browser there is no page to resolve /api/conferbot against: pass baseUrl (your conferbot BFF, e.g. http://localhost:8787/api/conferbot) or apiKey (direct mode)";

/// What every call of one client shares.
#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    /// The API base (`https://…/api/v1`) or the BFF mount, without a trailing slash.
    pub base_url: String,
    /// Extra headers for every request, the API key among them in direct mode.
    pub headers: Vec<(String, String)>,
    /// Time one attempt may take, unless a call says otherwise.
    pub timeout_ms: u32,
    /// The retry policy, unless a call says otherwise.
    pub retry: RetryPolicy,
    /// Every header of a read, a delete and a JSON write, as plain JS
    /// objects made once: a call passes one to `fetch` as it is.
    request_headers: [JsValue; 3],
    /// The client's `CallPolicy`: what its calls' JS loop asks after a failure.
    pub judge: JsValue,
    /// `onRetry`, told before each wait between attempts, unless a call says otherwise.
    pub on_retry: Option<js_sys::Function>,
    /// `onQuota`, told what every answer's quota headers say, unless a call says otherwise.
    pub on_quota: Option<js_sys::Function>,
}

impl ClientConfig {
    /// Reads `ClientOptions`; `browser` says whether a page could leak a key.
    pub(crate) fn from_options(options: &Fields<'_>, browser: bool) -> Result<Self, Error> {
        let api_key = options.string("apiKey")?;
        if api_key.as_deref().is_some_and(|key| key.trim().is_empty()) {
            return Err(Error::invalid_request("options.apiKey must not be empty"));
        }
        let allow_browser = options.boolean("dangerouslyAllowBrowser")?.unwrap_or(false);
        let mut headers = options.string_record("headers")?;
        let key_in_headers = headers
            .iter()
            .any(|(name, _)| name.trim().eq_ignore_ascii_case(API_KEY_HEADER));
        if browser && !allow_browser && (api_key.is_some() || key_in_headers) {
            return Err(Error::invalid_request(BROWSER_KEY_REFUSAL));
        }
        let base_url = match (options.string("baseUrl")?, &api_key) {
            (Some(url), _) => checked_base_url(url, browser)?,
            (None, Some(_)) => DEFAULT_BASE_URL.to_owned(),
            (None, None) if browser => BFF_MOUNT.to_owned(),
            (None, None) => return Err(Error::invalid_request(NODE_NEEDS_BASE)),
        };
        if let Some(key) = api_key {
            headers.retain(|(name, _)| !name.trim().eq_ignore_ascii_case(API_KEY_HEADER));
            headers.push((API_KEY_HEADER.to_owned(), key));
        }
        let max_retries = options.integer("maxRetries", 0, MAX_RETRIES)?;
        let retry = max_retries.map_or_else(RetryPolicy::default, |n| {
            RetryPolicy::default().with_max_retries(n)
        });
        Ok(Self {
            base_url,
            request_headers: request_headers(&headers),
            headers,
            timeout_ms: options
                .integer("timeoutMs", 1, MAX_TIMEOUT_MS)?
                .unwrap_or(DEFAULT_TIMEOUT_MS),
            retry,
            judge: CallPolicy::for_client(retry),
            on_retry: options.function("onRetry")?,
            on_quota: options.function("onQuota")?,
        })
    }
}

impl ClientConfig {
    /// The headers of a request of `method`, with a body (`json`) or not:
    /// the caller's, then the protocol's (JSON is what we read, writes carry
    /// the BFF's CSRF mark, bodies are JSON).
    pub(crate) fn headers_for(&self, method: Method, json: bool) -> &JsValue {
        let [read, delete, write] = &self.request_headers;
        match (method, json) {
            (Method::Get, _) => read,
            (_, false) => delete,
            (_, true) => write,
        }
    }
}

/// The three header objects of [`ClientConfig::headers_for`].
fn request_headers(caller: &[(String, String)]) -> [JsValue; 3] {
    let object = |protocol: &[(&str, &str)]| -> JsValue {
        let headers = Object::new();
        // The protocol's headers win, as `Headers.set` after the caller's would.
        let pairs = caller
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .filter(|(name, _)| {
                !protocol
                    .iter()
                    .any(|(own, _)| own.eq_ignore_ascii_case(name.trim()))
            })
            .chain(protocol.iter().copied());
        for (name, value) in pairs {
            // Setting a field of a new plain object cannot fail.
            let _ = Reflect::set(&headers, &name.into(), &value.into());
        }
        Object::freeze(&headers).into()
    };
    let accept = ("accept", "application/json");
    let csrf = (CSRF_HEADER, "1");
    [
        object(&[accept]),
        object(&[accept, csrf]),
        object(&[accept, csrf, ("content-type", "application/json")]),
    ]
}

/// A base URL without whitespace; outside a browser it must be absolute,
/// since there is no page to resolve it against.
fn checked_base_url(url: String, browser: bool) -> Result<String, Error> {
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_request(
            "options.baseUrl must be a URL without spaces",
        ));
    }
    let absolute = ["http://", "https://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    });
    if !browser && !absolute {
        return Err(Error::invalid_request(
            "options.baseUrl must be an absolute http(s) URL outside a browser, like http://localhost:8787/api/conferbot",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
