// The files of one export of FILE, all beside it:
// - `FILE.partial`: the records fetched so far, one JSON object per line,
//   appended page by page and flushed to disk (fsync) before the checkpoint
//   says they are there;
// - `FILE.checkpoint.json`: where to go on, written atomically (a temporary
//   file, fsync, rename, fsync of the folder) after each page;
// - FILE itself appears only when the export is complete (renamed from the
//   partial file for JSONL, written from it for CSV), so a FILE that exists
//   is always whole.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";

/** The paths of the export to `out`. */
export function exportPaths(out) {
  return {
    out,
    partial: `${out}.partial`,
    checkpoint: `${out}.checkpoint.json`,
    name: basename(out),
  };
}

/** Writes all of `bytes` at `position` of `fd` (a write may take fewer bytes than asked). */
export function writeAll(fd, bytes, position) {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Flushes the folder of `path`, so that a rename or a new file in it survives a crash. */
export function syncFolder(path) {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to `path` atomically: readers see the old file or the new one, never a part. */
export function writeAtomically(path, text) {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeAll(fd, Buffer.from(text), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncFolder(path);
}

/** The partial file, open for appending pages at known offsets. */
export class PartialFile {
  /** Creates it empty (a fresh export). */
  static create(path) {
    const file = new PartialFile(openSync(path, "w"));
    fsyncSync(file.fd);
    syncFolder(path);
    return file;
  }

  /**
   * Opens it to go on after `bytes`, which the checkpoint says are whole
   * records. What follows them was written after the last checkpoint (a page
   * whose checkpoint never came, or a line torn by a kill mid-write): it is
   * cut, and `cut` says how many bytes that was. Fails when the file is
   * shorter than `bytes` or does not end a line there: then it is not the
   * file the checkpoint describes.
   */
  static reopen(path, bytes) {
    if (!existsSync(path)) throw new Error(`${path} is missing, so the export cannot go on from its checkpoint`);
    const size = statSync(path).size;
    if (size < bytes) {
      throw new Error(`${path} has ${size} bytes, fewer than the ${bytes} its checkpoint says are done: it was changed since`);
    }
    const fd = openSync(path, "r+");
    const file = new PartialFile(fd);
    try {
      if (bytes > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, bytes - 1);
        if (last[0] !== 0x0a) throw new Error(`${path} does not end a line where its checkpoint says (byte ${bytes}): it was changed since`);
      }
      if (size > bytes) {
        ftruncateSync(fd, bytes);
        fsyncSync(fd);
      }
    } catch (error) {
      file.close();
      throw error;
    }
    file.cut = size - bytes;
    return file;
  }

  constructor(fd) {
    this.fd = fd;
    this.cut = 0;
  }

  /** Appends `text` at `position` and flushes it to disk; answers its length in bytes. */
  append(text, position) {
    const bytes = Buffer.from(text);
    writeAll(this.fd, bytes, position);
    fsyncSync(this.fd);
    return bytes.length;
  }

  close() {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Removes `path` if it is there. */
export function removeIfThere(path) {
  try {
    unlinkSync(path);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
}
