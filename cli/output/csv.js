// Records as CSV rows (RFC 4180: CRLF between records, fields with a comma,
// a double quote or a line break quoted, quotes doubled), written by
// csv-stringify. A response's answers become one column each
// (`answers.<name>`), so a spreadsheet shows one question per column.
//
// Cells: strings as they are; numbers and booleans as JSON writes them; null
// and absent values empty; objects and arrays (nested answers) as their JSON.
import { stringify } from "csv-stringify/sync";

/** The record field whose members become columns of their own. */
const SPREAD = "answers";

/** The cell of one value. */
export function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/**
 * Columns, in the order they are first seen: a record's own fields, then
 * every answer name (`answers.<name>`) after them.
 */
export class Columns {
  constructor() {
    this.fields = new Map();
    this.answers = new Map();
  }

  /** Notes the columns of `record`. */
  see(record) {
    for (const [name, value] of Object.entries(record)) {
      if (name === SPREAD && isPlainObject(value)) {
        for (const answer of Object.keys(value)) this.answers.set(answer, `${SPREAD}.${answer}`);
      } else {
        this.fields.set(name, name);
      }
    }
  }

  /** The header row. */
  names() {
    return [...this.fields.values(), ...this.answers.values()];
  }

  /** The row of `record` under these columns. */
  row(record) {
    const spread = isPlainObject(record[SPREAD]) ? record[SPREAD] : {};
    return [
      ...[...this.fields.keys()].map((name) => cell(record[name])),
      ...[...this.answers.keys()].map((name) => cell(spread[name])),
    ];
  }
}

/** `rows` (arrays of cells) as RFC 4180 text, each row ending in CRLF. */
export function csvText(rows) {
  // csv-stringify quotes a field holding the record delimiter (CRLF), but a
  // lone LF or CR would then go out bare: `quoted_match` quotes those too.
  return stringify(rows, { record_delimiter: "\r\n", quoted_match: /[\r\n]/ });
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
