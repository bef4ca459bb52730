//! URLs parsed by the platform's own WHATWG parser (JS's `URL`, in Node,
//! Deno, Bun and workerd alike), for the webhook-target rules of
//! [`conferbot_policy::webhook_target::check_parsed`]: the policy's own
//! parser (the `url` crate, with its IDNA tables) would be most of this
//! wasm, for the same answer.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// JS's `URL`.
    #[wasm_bindgen(js_name = URL)]
    type JsUrl;

    #[wasm_bindgen(constructor, catch, js_class = "URL")]
    fn new(url: &str) -> Result<JsUrl, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn protocol(this: &JsUrl) -> String;

    #[wasm_bindgen(method, getter)]
    fn hostname(this: &JsUrl) -> String;
}

/// `url`'s scheme (without the colon) and host as `URL` serializes them
/// (`hostname`), or `None` when it does not parse.
pub fn parse(url: &str) -> Option<(String, String)> {
    let parsed = JsUrl::new(url).ok()?;
    let protocol = parsed.protocol();
    let scheme = protocol.strip_suffix(':').unwrap_or(&protocol).to_owned();
    Some((scheme, parsed.hostname()))
}
