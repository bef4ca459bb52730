// The checkpoint of an export: what it exports (and how), the chatbots it
// walks (for responses), the next page to fetch, and how many bytes of the
// partial file are whole records. It is everything `--resume` needs to write
// what an uninterrupted export would have written, byte for byte.
//
// {
//   "conferbotExport": 1, "what": "responses", "format": "jsonl", "limit": 100,
//   "baseUrl": "http://127.0.0.1:8788/api/v1" | null,
//   "chatbots": [{"id": "…", "responseCount": 12}, …],   (responses only)
//   "expected": {"items": 6123, "pages": 71},
//   "next": {"chatbot": 3, "page": 2} | {"page": 2},    (chatbots: only "page")
//   "complete": false, "bytes": 123456, "items": 2345, "pages": 40, "calls": 41
// }
import { readFileSync } from "node:fs";

import { writeAtomically } from "./files.js";

const VERSION = 1;

/** Saves `plan` to `path`, atomically. */
export function saveCheckpoint(path, plan) {
  writeAtomically(path, `${JSON.stringify({ conferbotExport: VERSION, ...plan })}\n`);
}

/** Reads the checkpoint at `path`; a file that is not one fails with what is wrong. */
export function loadCheckpoint(path) {
  let data;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path} is not a readable checkpoint (${error.message})`);
  }
  const wrong = problemOf(data);
  if (wrong) throw new Error(`${path} is not a checkpoint of this version of conferbot: ${wrong}`);
  const { conferbotExport, ...plan } = data;
  return plan;
}

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const isPage = (n) => Number.isSafeInteger(n) && n >= 1;

function problemOf(data) {
  if (data === null || typeof data !== "object") return "not an object";
  if (data.conferbotExport !== VERSION) return `conferbotExport is ${JSON.stringify(data.conferbotExport)}, not ${VERSION}`;
  if (data.what !== "chatbots" && data.what !== "responses") return "what must be chatbots or responses";
  if (data.format !== "jsonl" && data.format !== "csv") return "format must be jsonl or csv";
  if (!isPage(data.limit)) return "limit must be a page size";
  if (data.baseUrl !== null && typeof data.baseUrl !== "string") return "baseUrl must be a string or null";
  for (const field of ["bytes", "items", "pages", "calls"]) {
    if (!isCount(data[field])) return `${field} must be a count`;
  }
  if (typeof data.complete !== "boolean") return "complete must be true or false";
  if (!data.expected || !isCount(data.expected.items) || !isCount(data.expected.pages)) return "expected must hold items and pages";
  if (!data.next || !isPage(data.next.page)) return "next.page must be a page number";
  if (data.what === "responses") {
    if (!Array.isArray(data.chatbots)) return "chatbots must be a list";
    for (const bot of data.chatbots) {
      if (!bot || typeof bot.id !== "string" || !isCount(bot.responseCount)) return "each chatbot needs an id and a responseCount";
    }
    if (!isCount(data.next.chatbot) || data.next.chatbot > data.chatbots.length) return "next.chatbot must index the chatbots";
  }
  return null;
}
