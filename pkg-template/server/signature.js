// `verifyWebhookSignature` of `conferbot-wasm/server`: checks the argument
// types (a TypeError names the wrong one, as createConferbotHandler's do)
// and hands bytes to the wasm's constant-time check (crates/server-wasm,
// src/signature.rs: the core's, the same the BFF's receiver runs).

const encoder = new TextEncoder();

function bytes(value, name) {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  throw new TypeError(`verifyWebhookSignature: ${name} must be a string or a Uint8Array, got ${got}`);
}

/** `verifyWebhookSignature` over the instantiated `glue`. */
export function signatureVerifier(glue) {
  return function verifyWebhookSignature(rawBody, signature, secret) {
    const body = bytes(rawBody, "rawBody");
    if (typeof signature !== "string") {
      const got = signature === null ? "null" : typeof signature;
      throw new TypeError(`verifyWebhookSignature: signature must be a string (the x-webhook-signature header), got ${got}`);
    }
    return glue.verifySignature(body, signature, bytes(secret, "secret"));
  };
}
