// The one ConferbotClient every command uses: direct mode with
// CONFERBOT_API_KEY, or any base URL that speaks the API (a BFF, the sandbox)
// from --base-url / CONFERBOT_BASE_URL, with or without a key. All HTTP goes
// through it: its input checks, retries and errors are the CLI's.
import { ConferbotClient, ConferbotError } from "conferbot-wasm";

import { UsageError } from "./failure.js";

/**
 * Retries after the first attempt. A command line can afford patience: a 429
 * is waited out (Retry-After up to a minute), a GET's 5xx or dropped
 * connection is retried with backoff. (The client's maximum.)
 */
export const MAX_RETRIES = 10;

/** The key of direct mode, from the environment; an empty value counts as none. */
export function apiKeyFromEnv() {
  const key = process.env.CONFERBOT_API_KEY;
  return key === undefined || key.trim() === "" ? undefined : key;
}

/**
 * A client for `baseUrl` (already merged with CONFERBOT_BASE_URL by the
 * option parser) and the environment's key. Bad settings are a usage error
 * of `command`.
 */
export function connect(baseUrl, command) {
  const apiKey = apiKeyFromEnv();
  if (apiKey === undefined && !baseUrl) {
    throw new UsageError(
      "no API to talk to: set CONFERBOT_API_KEY (direct mode, to the Conferbot API), or pass --base-url URL / set CONFERBOT_BASE_URL (a conferbot BFF such as http://localhost:8787/api/conferbot, or the sandbox)",
      command,
    );
  }
  try {
    return new ConferbotClient({ apiKey, baseUrl: baseUrl || undefined, maxRetries: MAX_RETRIES });
  } catch (error) {
    if (error instanceof ConferbotError) throw new UsageError(error.message, command);
    throw error;
  }
}

/** What the client talks to, for checkpoints (never the key): the base URL, or `null` for the API's own. */
export function targetOf(baseUrl) {
  return baseUrl ? baseUrl.replace(/\/+$/, "") : null;
}
