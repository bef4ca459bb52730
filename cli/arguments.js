// Option values as commander hands them over. Numbers the API bounds (page,
// limit) are only read as numbers here: the client checks their range with
// the API's own rules and its own words, before sending anything.
import { InvalidArgumentError } from "commander";

/** A decimal number, range unchecked (`--page`, `--limit`). */
export function number(raw) {
  if (!/^[+-]?\d+(\.\d+)?$/.test(raw.trim())) throw new InvalidArgumentError("not a number.");
  return Number(raw);
}

/** A whole number from 1 (`--max-calls`). */
export function positiveInteger(raw) {
  const n = number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number from 1.");
  return n;
}

/** `text` as one shell word, for the commands the CLI tells people to run. */
export function shellWord(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
