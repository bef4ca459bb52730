// HTTP/1.1 requests as raw bytes over a socket, so nothing normalizes the
// request target on the way (no URL parsing, no dot-segment removal), and
// answers read whole: status, headers (lower-case names, repeats kept), body.
import { connect } from "node:net";

/** Headers that say how a message travels, not what it says: never compared. */
export const FRAMING = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

/**
 * Sends `method target HTTP/1.1` with `headers` (name → value) and `body` to
 * `origin` (`http://127.0.0.1:PORT`); answers `{status, headers, body, raw}`.
 */
export function rawRequest(origin, method, target, headers = {}, body = "") {
  const { hostname, port } = new URL(origin);
  // A `host` in `headers` replaces the origin's (the host allowlist's tests).
  const ownHost = Object.keys(headers).some((name) => name.toLowerCase() === "host");
  const lines = [`${method} ${target} HTTP/1.1`, ...(ownHost ? [] : [`Host: ${hostname}:${port}`])];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const payload = Buffer.from(body);
  if (payload.length > 0) lines.push(`Content-Length: ${payload.length}`);
  lines.push("Connection: close", "", "");
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks = [];
    const timer = setTimeout(() => socket.destroy(new Error(`${method} ${target}: no answer within 10 s`)), 10_000);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parse(Buffer.concat(chunks)));
    });
    // Written, not ended: a half-closed socket makes hyper drop the connection unanswered.
    socket.write(Buffer.concat([Buffer.from(lines.join("\r\n"), "utf8"), payload]));
  });
}

function parse(raw) {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString("latin1");
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const [statusLine, ...lines] = head.split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  if (headers.some(([n, v]) => n === "transfer-encoding" && v.includes("chunked"))) body = dechunk(body);
  return { status, headers, body: body.toString("utf8"), raw: raw.toString("latin1") };
}

function dechunk(body) {
  const parts = [];
  let at = 0;
  for (;;) {
    const line = body.indexOf("\r\n", at);
    if (line < 0) break;
    const size = parseInt(body.subarray(at, line).toString("latin1"), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The headers that say something, as sorted `name: value` lines. */
export function meaningful(headers) {
  return headers
    .filter(([name]) => !FRAMING.has(name))
    .map(([name, value]) => `${name}: ${value}`)
    .sort();
}
