// The forecast: before an export spends anything, how many calls it needs,
// how long they take at the key's rate, and whether the month can afford
// them (`getUsage`). Page counts are estimates from `responseCount` (and the
// chatbot list's `total`); the export itself follows the server's `page` and
// `totalPages`, so a count that is off changes the ETA, never the records.
import { count, duration, thousands } from "../words.js";

/** The API's documented per-key rate: 60 requests a minute, so a call a second. */
export const CALLS_PER_MINUTE = 60;

/** Calls one list of `items` needs at `limit` a page: at least one, to learn that it is empty. */
export function pagesFor(items, limit) {
  return Math.max(1, Math.ceil(items / limit));
}

/** Calls still needed to finish `plan`, estimated. */
export function callsLeft(plan) {
  if (plan.complete) return 0;
  const { next } = plan;
  const current = (estimate) => Math.max(1, (next.totalPages ?? estimate) - next.page + 1);
  if (plan.what === "chatbots") return current(plan.expected.pages);
  let calls = 0;
  for (let i = next.chatbot; i < plan.chatbots.length; i += 1) {
    const pages = pagesFor(plan.chatbots[i].responseCount, plan.limit);
    calls += i === next.chatbot ? current(pages) : pages;
  }
  return calls;
}

/**
 * The forecast of `plan` (fresh or resumed), given this month's `usage` and
 * `spentSinceUsage`, the calls made after `getUsage` answered (they are not
 * in its `remaining` yet).
 */
export function forecastOf(plan, usage, { spent, spentSinceUsage, maxCalls }) {
  const needed = callsLeft(plan);
  const willMake = maxCalls === undefined ? needed : Math.min(needed, maxCalls);
  const remaining = usage.remaining === null ? null : Math.max(0, usage.remaining - spentSinceUsage);
  return {
    what: plan.what,
    chatbots: plan.chatbots?.length ?? null,
    items: plan.expected.items,
    limit: plan.limit,
    resumed: plan.pages > 0,
    itemsDone: plan.items,
    callsSpent: spent,
    callsNeeded: needed,
    maxCalls: maxCalls ?? null,
    callsPlanned: willMake,
    seconds: Math.round((willMake * 60) / CALLS_PER_MINUTE),
    month: usage.month,
    plan: usage.plan,
    used: usage.used + spentSinceUsage,
    limitThisMonth: usage.limit,
    remaining,
    affordable: remaining === null || remaining >= willMake,
  };
}

/** The forecast in words, one line each. */
export function forecastLines(f) {
  const what = f.what === "responses" && f.chatbots !== null
    ? `${count(f.items, "response")} of ${count(f.chatbots, "chatbot")}`
    : count(f.items, f.what === "responses" ? "response" : "chatbot");
  const done = f.resumed ? `${thousands(f.itemsDone)} done; ` : "";
  const lines = [
    `forecast: ${count(f.callsNeeded, "API call")} ${f.resumed ? "to finish" : "for"} ${what} (${done}pages of ${f.limit}), after the ${count(f.callsSpent, "call")} of this forecast`,
  ];
  if (f.maxCalls !== null && f.maxCalls < f.callsNeeded) {
    lines.push(`forecast: --max-calls ${f.maxCalls}: this run stops after ${count(f.callsPlanned, "call")}, resumable`);
  }
  lines.push(`forecast: about ${duration(f.seconds)} at ${CALLS_PER_MINUTE} calls a minute`);
  lines.push(
    f.remaining === null
      ? `forecast: this month (${f.month}, ${f.plan} plan) has no call limit`
      : `forecast: this month (${f.month}, ${f.plan} plan) has ${thousands(f.remaining)} of ${thousands(f.limitThisMonth)} calls left`,
  );
  return lines;
}

/** Why the export does not start, or `null` when it can. */
export function refusalOf(f, { yes }) {
  if (f.affordable || yes) return null;
  const cap = f.remaining > 0 ? `, or --max-calls ${f.remaining} spends what is left and stops, resumable` : "";
  return (
    `refusing to start: this needs ${count(f.callsPlanned, "call")} and the month has ${thousands(f.remaining)} left. ` +
    `--yes starts anyway (an API error stops it when the month runs out; --resume goes on later)${cap}`
  );
}
