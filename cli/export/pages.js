// The export's loop: fetch the next page the plan names, append its records
// to the partial file (flushed), then save the checkpoint; repeat until the
// plan is complete, a stop was asked for, or --max-calls is reached. Records
// are written as the client decoded them, one `JSON.stringify` per line, so
// that the same answers always give the same bytes; a response carries its
// `chatbotId` (a required field of the client's `ChatbotResponse`).
import { saveCheckpoint } from "./checkpoint.js";
import { callsLeft } from "./forecast.js";

/** The counts a progress display shows for `plan`. */
export function countsOf(plan) {
  return {
    items: plan.items,
    itemsTotal: Math.max(plan.items, plan.expected.items),
    pages: plan.pages,
    pagesTotal: plan.pages + callsLeft(plan),
  };
}

/** Appends one page of `records` and moves the plan past it. */
export function recordPage(plan, { file, paths }, records, { hasNext, totalPages }) {
  const text = records.map((record) => `${JSON.stringify(record)}\n`).join("");
  plan.bytes += file.append(text, plan.bytes);
  plan.items += records.length;
  plan.pages += 1;
  advance(plan, hasNext, totalPages);
  saveCheckpoint(paths.checkpoint, plan);
}

function advance(plan, hasNext, totalPages) {
  if (hasNext) {
    plan.next = { ...plan.next, page: plan.next.page + 1, totalPages: totalPages ?? undefined };
  } else if (plan.what === "chatbots") {
    plan.complete = true;
  } else {
    plan.next = { chatbot: plan.next.chatbot + 1, page: 1 };
    plan.complete = plan.next.chatbot >= plan.chatbots.length;
  }
}

function fetchNext(client, plan, options) {
  const params = { page: plan.next.page, limit: plan.limit };
  if (plan.what === "chatbots") return client.listChatbots(params, options);
  return client.listResponses(plan.chatbots[plan.next.chatbot].id, params, options);
}

/**
 * Runs `plan` to its end or to a stop. Answers `"complete"`, `"stopped"`
 * (a signal) or `"capped"` (--max-calls); an API error rejects, with every
 * page before it saved.
 */
export async function runPages(plan, job) {
  const { client, stop, progress, maxCalls, options, counter } = job;
  let calls = 0;
  while (!plan.complete) {
    if (stop.requested) return "stopped";
    if (maxCalls !== undefined && calls >= maxCalls) return "capped";
    calls += 1;
    counter.calls += 1;
    progress.update({ calls: counter.calls });
    const page = await fetchNext(client, plan, options);
    let records;
    let shape;
    try {
      records = page.data;
      shape = { hasNext: page.hasNextPage(), totalPages: page.totalPages };
    } finally {
      page.free();
    }
    stop.answered();
    plan.calls += 1;
    recordPage(plan, job, records, shape);
    progress.update(countsOf(plan));
  }
  return "complete";
}
