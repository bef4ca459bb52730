// What each failure means to a person, in words rather than status codes.
//
// The package rejects with a `ConferbotError` whose `kind` says what went
// wrong (see `src/error.rs`, `ErrorKind`). Widgets branch on the kind only;
// the status and the server's message are detail for those who want it.

/**
 * The fields of a `ConferbotError` the widgets read.
 * @typedef {object} ErrorLike
 * @property {string} [kind] one of `ErrorKind`'s wire names (`"rate_limited"`…)
 * @property {number | null} [status] the HTTP status, when a server answered
 * @property {string} [message] what went wrong, from the client or the server
 * @property {string | null} [detail] the server's longer explanation, if any
 * @property {number | null} [retryAfter] seconds the server asked to wait (429)
 */

/**
 * What a widget shows for a failure.
 * @typedef {object} ErrorWording
 * @property {string} text a sentence for the person using the dashboard
 * @property {number | null} retryInSeconds when to retry by itself (rate limits), else null
 */

/** Seconds to wait after a rate limit that did not say how long (the guide's own Retry-After is 60). */
export const DEFAULT_RATE_LIMIT_WAIT_S = 10;

/**
 * Words for `error`, whatever was thrown.
 * @param {unknown} error
 * @returns {ErrorWording}
 */
export function describeError(error) {
  const e = asErrorLike(error);
  switch (e.kind) {
    case "rate_limited": {
      const wait = waitSeconds(e.retryAfter);
      return { text: `Too many requests for now; retrying in ${wait} s.`, retryInSeconds: wait };
    }
    case "unauthorized":
      return words("Conferbot refused the request: the server's API key is missing or invalid. Whoever runs this dashboard's server needs to set a valid key.");
    case "forbidden":
      return words("Your Conferbot plan does not allow this.");
    case "network":
      return words("Cannot reach the server. Check the network connection; the dashboard's server may be down.");
    case "timeout":
      return words("The server took too long to answer.");
    case "server":
      return words(isGatewayStatus(e.status)
        ? "The Conferbot service is not answering right now."
        : "The Conferbot service ran into a problem and could not answer.");
    case "decode":
      return words("The server's answer could not be understood.");
    case "not_found":
      return words("That item no longer exists; it may have been deleted elsewhere.");
    case "invalid_request":
      // The client's own check of what was typed: its message already says what to fix.
      return words(e.message || "That input is not valid.");
    case "bad_request":
      return words(`The server did not accept the request${e.message ? `: ${e.message}` : "."}`);
    case "aborted":
      return words("The request was cancelled.");
    default:
      return words(`Something went wrong in the dashboard${e.message ? `: ${e.message}` : "."}`);
  }
}

/**
 * The kind of a failure, or `undefined` for something that is not a `ConferbotError`.
 * @param {unknown} error
 */
export function errorKind(error) {
  return asErrorLike(error).kind;
}

/**
 * @param {string} text
 * @returns {ErrorWording}
 */
function words(text) {
  return { text, retryInSeconds: null };
}

/**
 * Whole seconds to wait, at least 1.
 * @param {number | null | undefined} retryAfter
 */
function waitSeconds(retryAfter) {
  if (typeof retryAfter !== "number" || !Number.isFinite(retryAfter) || retryAfter < 0) {
    return DEFAULT_RATE_LIMIT_WAIT_S;
  }
  return Math.max(1, Math.ceil(retryAfter));
}

/**
 * 502, 503 and 504 mean something behind the server is unreachable.
 * @param {number | null | undefined} status
 */
function isGatewayStatus(status) {
  return status === 502 || status === 503 || status === 504;
}

/**
 * @param {unknown} error
 * @returns {ErrorLike}
 */
function asErrorLike(error) {
  if (typeof error !== "object" || error === null) {
    return { message: String(error) };
  }
  const e = /** @type {Record<string, unknown>} */ (error);
  return {
    kind: typeof e.kind === "string" ? e.kind : undefined,
    status: typeof e.status === "number" ? e.status : null,
    message: typeof e.message === "string" ? e.message : undefined,
    detail: typeof e.detail === "string" ? e.detail : null,
    retryAfter: typeof e.retryAfter === "number" ? e.retryAfter : null,
  };
}
