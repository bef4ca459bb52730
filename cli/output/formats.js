// What the read commands print on stdout, and only that: the records, in one
// of four formats. `table` when stdout is a terminal, `jsonl` when it is not
// (a pipe, a file), unless --format says otherwise.
import { Columns, csvText } from "./csv.js";
import { tableCell, tableText } from "./table.js";

/** The formats of the read commands. */
export const FORMATS = ["table", "json", "jsonl", "csv"];

/** `--format`'s default: for people at a terminal, or for programs. */
export function defaultFormat() {
  return process.stdout.isTTY ? "table" : "jsonl";
}

/**
 * Which fields a table shows, per kind of record: `[heading, field, show?]`
 * (`show` turns the value into what the cell displays).
 */
export const VIEWS = {
  chatbot: [
    ["id", "id"],
    ["name", "name"],
    ["status", "status"],
    ["responses", "responseCount"],
    ["created", "createdAt"],
    ["updated", "updatedAt"],
  ],
  response: [
    ["id", "id"],
    ["status", "status"],
    ["created", "createdAt"],
    ["answers", "answers", (answers) => JSON.stringify(answers)],
  ],
  webhook: [
    ["id", "id"],
    ["url", "url"],
    ["events", "events", (events) => (Array.isArray(events) ? events.join(", ") : events)],
    ["active", "active"],
    ["created", "createdAt"],
  ],
};

/** Writes records to stdout in `format`: jsonl as they come, the others once all are in. */
export class RecordWriter {
  constructor(format, view) {
    this.format = format;
    this.view = view;
    this.kept = [];
  }

  /** Adds records (one page). */
  add(records) {
    if (this.format === "jsonl") {
      if (records.length > 0) write(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    } else {
      this.kept.push(...records);
    }
  }

  /** Writes what was kept. */
  end() {
    if (this.format === "json") write(`${JSON.stringify(this.kept, null, 2)}\n`);
    if (this.format === "csv") write(csvOf(this.kept));
    if (this.format === "table") write(tableOf(this.kept, this.view));
  }
}

/** Writes one record (usage, a created webhook): a table shows it as field/value lines. */
export function writeOne(record, format) {
  if (format === "json") write(`${JSON.stringify(record, null, 2)}\n`);
  if (format === "jsonl") write(`${JSON.stringify(record)}\n`);
  if (format === "csv") write(csvOf([record]));
  if (format === "table") {
    write(tableText(["field", "value"], Object.entries(record).map(([k, v]) => [k, tableCell(v)])));
  }
}

function csvOf(records) {
  if (records.length === 0) return "";
  const columns = new Columns();
  for (const record of records) columns.see(record);
  return csvText([columns.names(), ...records.map((r) => columns.row(r))]);
}

function tableOf(records, view) {
  const header = view.map(([heading]) => heading);
  const rows = records.map((record) =>
    view.map(([, field, show]) => tableCell(show && record[field] !== undefined ? show(record[field]) : record[field])),
  );
  return tableText(header, rows);
}

function write(text) {
  process.stdout.write(text);
}
