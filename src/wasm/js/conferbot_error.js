// The error class every conferbot-wasm call rejects with. It is plain JS (not a
// wasm-bindgen class) so that it can extend Error: stack traces, `instanceof
// Error` and console output all behave as users expect. Rust fills it in.

/** A failed conferbot-wasm call; branch on `kind`. */
export class ConferbotError extends Error {
  /**
   * @param {string} kind snake_case kind, e.g. "rate_limited"
   * @param {string} message what went wrong (the server's `error` when it sent one)
   * @param {{status?: number | null, detail?: string | null, retryAfter?: number | null,
   *          headers?: Headers | null, requestId?: string | null, quota?: object | null}} [fields]
   */
  constructor(kind, message, fields = {}) {
    super(message);
    this.name = "ConferbotError";
    this.kind = kind;
    this.status = fields.status ?? null;
    this.detail = fields.detail ?? null;
    this.retryAfter = fields.retryAfter ?? null;
    this.headers = fields.headers ?? null;
    this.requestId = fields.requestId ?? null;
    this.quota = fields.quota ?? null;
  }
}

// Called from Rust: positional arguments keep the wasm side free of object building.
export function conferbotError(kind, message, status, detail, retryAfter, headers, requestId) {
  return new ConferbotError(kind, message, { status, detail, retryAfter, headers, requestId });
}

// The entry points export the class itself, so `instanceof` works for users.
export function conferbotErrorClass() {
  return ConferbotError;
}
