// What a fresh export walks, found by its forecast's calls:
// - `export chatbots`: the first page of chatbots (its records are the
//   export's first page, so the call is not wasted) and the list's totals;
// - `export responses`: every chatbot of the workspace, in API order, with its
//   `responseCount` (pages of the chatbot list), or the chatbots given with
//   `--chatbot`, in the order given (one `getChatbot` each, which also finds
//   an unknown id before anything is exported).
import { ConferbotError } from "conferbot-wasm";

import { pagesFor } from "./forecast.js";

/**
 * Checks the export's input with the client's own rules before any request:
 * a call given an already aborted signal checks its arguments first
 * (`invalid_request`), then rejects as `aborted` without sending anything.
 */
export async function checkInputs(client, { limit, chatbotIds }) {
  const signal = AbortSignal.abort();
  const probes = [client.listChatbots({ page: 1, limit }, { signal })];
  for (const id of chatbotIds ?? []) probes.push(client.listResponses(id, { page: 1, limit }, { signal }));
  for (const probe of probes) {
    try {
      (await probe).free();
    } catch (error) {
      if (!(error instanceof ConferbotError && error.kind === "aborted")) throw error;
    }
  }
}

/**
 * Surveys what the export walks. `call(send)` makes one counted call
 * (`send(requestOptions)`); `atLeast(listingPages, chatbots)` is told, after
 * the first page of chatbots, how many pages of the list are left and how many
 * chatbots it holds (each needs a call at least), so that an export the month
 * cannot afford is refused before it lists a large workspace.
 */
export async function survey(client, what, { limit, chatbotIds }, call, atLeast) {
  if (what === "chatbots") {
    const page = await call((options) => client.listChatbots({ page: 1, limit }, options));
    try {
      const records = page.data;
      const hasNext = page.hasNextPage();
      return {
        expected: { items: page.total ?? records.length, pages: page.totalPages ?? (hasNext ? 2 : 1) },
        first: { records, hasNext, totalPages: page.totalPages },
      };
    } finally {
      page.free();
    }
  }
  if (chatbotIds) {
    const chatbots = [];
    for (const id of chatbotIds) {
      const bot = await call((options) => client.getChatbot(id, options));
      chatbots.push({ id: bot.id, responseCount: bot.responseCount });
    }
    return { chatbots, expected: expectedOf(chatbots, limit) };
  }
  const chatbots = [];
  let page = await call((options) => client.listChatbots({ page: 1, limit }, options));
  try {
    atLeast(Math.max(0, (page.totalPages ?? 1) - 1), page.total ?? page.data.length);
    for (;;) {
      for (const bot of page.data) chatbots.push({ id: bot.id, responseCount: bot.responseCount });
      if (!page.hasNextPage()) break;
      const current = page;
      // The next page keeps the first one's options (signal, onRetry).
      page = await call(() => current.getNextPage());
      current.free();
    }
  } finally {
    page.free();
  }
  return { chatbots, expected: expectedOf(chatbots, limit) };
}

function expectedOf(chatbots, limit) {
  let pages = 0;
  let items = 0;
  for (const bot of chatbots) {
    pages += pagesFor(bot.responseCount, limit);
    items += bot.responseCount;
  }
  return { items, pages };
}
