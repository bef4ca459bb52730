// Aligned text tables for people at a terminal (`--format table`). Cells are
// shown on one line: line breaks and tabs as visible marks, long text cut
// with "…"; widths count what a terminal shows (string-width: wide CJK and
// emoji take two columns). Pipes and files get jsonl, json or csv instead.
import stringWidth from "string-width";

import { cell } from "./csv.js";

/** Widest a cell is shown; the rest is cut. */
const MAX_CELL = 48;

/** How a value looks in one table cell. */
export function tableCell(value) {
  const text = cell(value)
    .replace(/\r\n|\r|\n/g, "⏎")
    .replace(/\t/g, "→")
    // Other control characters would move the cursor or recolour the terminal.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "�");
  return cut(text, MAX_CELL);
}

/** `rows` (arrays of strings) under `header`, columns padded to their widest cell. */
export function tableText(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => stringWidth(row[i] ?? ""))));
  const line = (row) =>
    row
      .map((text, i) => (i === row.length - 1 ? text : text + " ".repeat(widths[i] - stringWidth(text))))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `${l}\n`).join("");
}

/** `text` cut to at most `max` terminal columns, ending in "…" when cut. */
function cut(text, max) {
  if (stringWidth(text) <= max) return text;
  let out = "";
  for (const char of text) {
    if (stringWidth(out + char) > max - 1) break;
    out += char;
  }
  return `${out}…`;
}
