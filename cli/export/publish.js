// The end of a complete export: FILE appears whole, then the partial file and
// the checkpoint go. JSONL: the partial file is FILE, renamed. CSV: the
// header needs every column, which only the whole set of records tells, so
// FILE is written from the partial file in two streaming passes (columns,
// then rows). Each step can be repeated, so a kill during publishing is
// repaired by `--resume` too.
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, renameSync } from "node:fs";
import { createInterface } from "node:readline";

import { Columns, csvText } from "../output/csv.js";
import { removeIfThere, syncFolder, writeAll } from "./files.js";

/** Rows written to the CSV at a time. */
const ROWS_PER_WRITE = 500;

/** Publishes FILE from a complete export's partial file, and removes the checkpoint. */
export async function publish(paths, plan) {
  if (existsSync(paths.partial)) {
    if (plan.format === "csv") {
      await writeCsv(paths.partial, `${paths.out}.tmp`);
      renameSync(`${paths.out}.tmp`, paths.out);
      syncFolder(paths.out);
      removeIfThere(paths.partial);
    } else {
      renameSync(paths.partial, paths.out);
    }
    syncFolder(paths.out);
  } else if (!existsSync(paths.out)) {
    throw new Error(`neither ${paths.out} nor ${paths.partial} exists: the export's records are gone; start again with --force`);
  }
  removeIfThere(paths.checkpoint);
  syncFolder(paths.out);
}

async function* records(path) {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) if (line !== "") yield JSON.parse(line);
}

async function writeCsv(from, to) {
  const columns = new Columns();
  for await (const record of records(from)) columns.see(record);
  const fd = openSync(to, "w");
  try {
    let position = 0;
    const write = (rows) => {
      const bytes = Buffer.from(csvText(rows));
      writeAll(fd, bytes, position);
      position += bytes.length;
    };
    const header = columns.names();
    if (header.length > 0) write([header]);
    let batch = [];
    for await (const record of records(from)) {
      batch.push(columns.row(record));
      if (batch.length === ROWS_PER_WRITE) {
        write(batch);
        batch = [];
      }
    }
    if (batch.length > 0) write(batch);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
