//! `verifyWebhookSignature(rawBody, signature, secret)` for webhook receivers
//! written in JS; the check itself is the core's constant-time one.

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::signature::verify_webhook_signature;

use super::fields::type_name;
use super::js_error::to_js;

/// Whether `signature` (the `x-webhook-signature` header) is the HMAC-SHA256
/// of `rawBody` under `secret`. Pass the body exactly as received: a string,
/// or its bytes. Throws a `ConferbotError` (`invalid_request`) for arguments
/// of the wrong type; a malformed signature is simply `false`.
#[wasm_bindgen(js_name = verifyWebhookSignature)]
pub fn verify_webhook_signature_js(
    #[wasm_bindgen(js_name = rawBody, unchecked_param_type = "string | Uint8Array")]
    raw_body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] signature: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] secret: JsValue,
) -> Result<bool, JsValue> {
    let bytes = |value: &JsValue, name: &str| -> Result<Vec<u8>, JsValue> {
        if let Some(text) = value.as_string() {
            return Ok(text.into_bytes());
        }
        match value.dyn_ref::<js_sys::Uint8Array>() {
            Some(array) => Ok(array.to_vec()),
            None => Err(to_js(&Error::invalid_request(format!(
                "{name} must be a string or a Uint8Array, got {}",
                type_name(value)
            )))),
        }
    };
    let body = bytes(&raw_body, "rawBody")?;
    let secret = bytes(&secret, "secret")?;
    let signature = signature.as_string().ok_or_else(|| {
        to_js(&Error::invalid_request(format!(
            "signature must be a string, got {}",
            type_name(&signature)
        )))
    })?;
    Ok(verify_webhook_signature(&body, &signature, &secret))
}
