//! Webhook signatures for receivers written in JS: `verifyWebhookSignature`
//! of `conferbot-wasm/server` (`pkg-template/server/signature.js` checks the
//! argument types and calls this).
//!
//! It lives in the server half, not in the client's wasm: verifying a
//! delivery takes the webhook's secret, which belongs on a server, and the
//! HMAC-SHA256 code would cost every browser 3.4 KiB gzip for a function a
//! page must never call. The check is the core's constant-time one, the same
//! the BFF's receiver runs.

use wasm_bindgen::prelude::*;

/// Whether `signature` (the `x-webhook-signature` header, lowercase hex) is
/// the HMAC-SHA256 of `raw_body` under `secret`; a malformed signature is
/// simply `false`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(raw_body: &[u8], signature: &str, secret: &[u8]) -> bool {
    conferbot::verify_webhook_signature(raw_body, signature, secret)
}
