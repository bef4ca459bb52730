// What each plan allows and which webhook events exist, for display only.
//
// The source of truth is the core crate: `Plan::webhook_limit` in
// `src/types/plan.rs` and `WebhookEvent::KNOWN` in `src/types/webhook.rs`.
// These copies only label the screen; the server decides, and a refusal it
// answers is shown as it comes. Keep them in step with those two files.

/** Webhooks each documented plan allows (`Plan::webhook_limit`). */
const WEBHOOK_LIMITS = new Map([
  ["free", 0],
  ["starter", 5],
  ["pro", 15],
  ["business", 50],
  ["enterprise", 999],
]);

/**
 * Webhooks the plan allows, or `null` for a plan this dashboard does not know.
 * Plan names match in any case, as the crate decodes them.
 * @param {string} plan
 * @returns {number | null}
 */
export function webhookLimit(plan) {
  return WEBHOOK_LIMITS.get(plan.toLowerCase()) ?? null;
}

/**
 * The documented webhook events, as the server names them (`WebhookEvent::KNOWN`).
 * @type {readonly import("./package.js").KnownWebhookEvent[]}
 */
export const WEBHOOK_EVENTS = Object.freeze([
  "response.created",
  "response.updated",
  "conversation.started",
  "conversation.completed",
]);
