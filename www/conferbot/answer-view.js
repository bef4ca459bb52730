// A response's answers, readable whatever JSON they are: text (long text
// folds behind a <details>, line breaks kept), numbers and yes/no as
// written, lists and nested objects as nested lists, empty values said as
// such. Questions and answers are untrusted text: only ever text nodes.

import { h } from "./dom.js";
import { formatNumber } from "./format.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").JsonValue} JsonValue */

/** Text longer than this folds behind "show all"… */
const LONG_TEXT = 280;
/** …showing this much of it until opened. */
const PREVIEW = 160;
/** Nesting deeper than this shows as JSON text rather than ever-narrower lists. */
const MAX_DEPTH = 4;

/** The answers' look, for the widget's `adoptedStyleSheets`. */
export const answersSheet = sheet(`
  dl.answers, dl.nested {
    display: grid;
    grid-template-columns: minmax(6rem, max-content) minmax(0, 1fr);
    gap: 0.2rem 1rem;
    margin: 0;
  }
  dl.nested {
    grid-template-columns: max-content minmax(0, 1fr);
    gap: 0.1rem 0.75rem;
    padding-inline-start: 0.6rem;
    border-inline-start: 2px solid var(--conferbot-border, #d8dde6);
  }
  dl.answers > dt, dl.nested > dt { color: var(--conferbot-muted, #5b6576); overflow-wrap: anywhere; max-width: 16rem; }
  dl.answers > dd, dl.nested > dd { margin: 0; min-width: 0; }
  .text { white-space: pre-wrap; overflow-wrap: anywhere; }
  .number { font-variant-numeric: tabular-nums; }
  .none { color: var(--conferbot-muted, #5b6576); font-style: italic; }
  ul.list { margin: 0; padding-inline-start: 1.1rem; }
  code.json { font-family: var(--conferbot-mono-font, ui-monospace, monospace); font-size: 0.88em; white-space: pre-wrap; overflow-wrap: anywhere; }
  details > summary { cursor: pointer; }
  details > summary .less, details[open] > summary .preview { display: none; }
  details[open] > summary .less { display: inline; }
  details > summary .more, details > summary .less { color: var(--conferbot-accent, #3358d4); }
`);

/**
 * The answers of one response, question by question.
 * @param {Record<string, JsonValue>} answers
 * @returns {HTMLElement}
 */
export function answersList(answers) {
  const entries = isRecord(answers) ? Object.entries(answers) : [];
  if (entries.length === 0) return h("p", { class: "none" }, "No answers.");
  return h("dl", { class: "answers" }, entries.flatMap(([question, value]) => [
    h("dt", {}, question),
    h("dd", {}, answerValue(value, 0)),
  ]));
}

/**
 * One answer, any JSON value.
 * @param {JsonValue} value
 * @param {number} depth how deep inside other values it is
 * @returns {Node}
 */
export function answerValue(value, depth) {
  if (value === null || value === undefined) return h("span", { class: "none" }, "(empty)");
  if (typeof value === "string") return text(value);
  if (typeof value === "number") return h("span", { class: "number" }, String(value));
  if (typeof value === "boolean") return h("span", {}, value ? "Yes" : "No");
  if (depth >= MAX_DEPTH) return h("code", { class: "json" }, JSON.stringify(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "none" }, "(none)");
    return h("ul", { class: "list" }, value.map((item) => h("li", {}, answerValue(item, depth + 1))));
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return h("span", { class: "none" }, "(empty)");
  return h("dl", { class: "nested" }, entries.flatMap(([key, item]) => [
    h("dt", {}, key),
    h("dd", {}, answerValue(item, depth + 1)),
  ]));
}

/**
 * Text as written (line breaks kept); long text folded, opened by a click or Enter.
 * @param {string} value
 */
function text(value) {
  if (value === "") return h("span", { class: "none" }, "(empty text)");
  if (value.length <= LONG_TEXT) return h("span", { class: "text" }, value);
  return h("details", {},
    h("summary", {},
      h("span", { class: "preview" },
        h("span", { class: "text" }, `${value.slice(0, PREVIEW).trimEnd()}… `),
        h("span", { class: "more" }, `show all ${formatNumber(value.length)} characters`)),
      h("span", { class: "less" }, "Show less")),
    h("div", { class: "text" }, value));
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, JsonValue>}
 */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
