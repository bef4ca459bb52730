// The handler's two faces: a fetch handler (`(Request) => Promise<Response>`,
// for Hono, Next.js, Deno, Bun, workerd) and a Node listener
// (`toNodeListener`, for http.createServer, Express, Connect). Both feed the
// same core the raw request; the Node listener passes the request target as
// it arrived (never normalized, and saying when it was in absolute form),
// so under Node the handler answers exactly what conferbot-bff answers.
// A fetch Request's URL has already been normalized by the runtime.
import { CORE } from "./core.js";

/**
 * A fetch `Request` as the core reads it; `context` is what the runtime
 * passed after it, where the peer's address may be: Deno's `info.remoteAddr`
 * (`Deno.serve(h)`), Bun's `server.requestIP(request)` (`Bun.serve({ fetch: h })`).
 */
export function fromRequest(request, context = []) {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    query: url.search.length > 1 ? url.search.slice(1) : undefined,
    absoluteForm: false,
    authority: url.host,
    peer: peerOf(request, context),
    original: request,
    header: (name) => request.headers.get(name) ?? undefined,
    hasBody: request.body !== null,
    readBody: (limit) => readStream(request.body, limit),
  };
}

/** The connection's address, when the runtime says it. */
function peerOf(request, context) {
  for (const arg of context) {
    const deno = arg?.remoteAddr?.hostname;
    if (typeof deno === "string") return deno;
    if (typeof arg?.requestIP === "function") {
      const bun = arg.requestIP(request)?.address;
      if (typeof bun === "string") return bun;
    }
  }
  return undefined;
}

/** What the core answered, as a fetch `Response`. */
export function toResponse(out) {
  const headers = new Headers();
  for (let i = 0; i < out.headers.length; i += 2) headers.append(out.headers[i], out.headers[i + 1]);
  if (!out.feed) return new Response(out.body.length > 0 ? out.body : null, { status: out.status, headers });
  const encoder = new TextEncoder();
  let stop;
  const stream = new ReadableStream({
    start(controller) {
      stop = out.feed.start({
        write: (text) => controller.enqueue(encoder.encode(text)),
        close: () => {
          try {
            controller.close();
          } catch {
            // already closed by the reader going away
          }
        },
      });
    },
    cancel() {
      stop?.();
    },
  });
  return new Response(stream, { status: out.status, headers });
}

/** Reads a body stream, at most `limit` bytes: the bytes, or `null` past the limit. */
async function readStream(stream, limit) {
  const chunks = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    if (length > limit) return null;
    chunks.push(chunk);
  }
  return join(chunks, length);
}

function join(chunks, length) {
  if (chunks.length === 1) return new Uint8Array(chunks[0].buffer, chunks[0].byteOffset, chunks[0].length);
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * The handler as a Node listener `(req, res, next?)`: requests outside its
 * paths go to `next()` (Express, Connect), or get the BFF's JSON 404 when
 * there is no `next`.
 */
export function toNodeListener(handler) {
  const entry = handler?.[CORE];
  if (!entry) throw new TypeError("toNodeListener takes a handler made by createConferbotHandler");
  return (req, res, next) => {
    entry.core(fromNode(req)).then(
      (out) => {
        if (out === null) {
          if (typeof next === "function") return next();
          out = entry.notFound();
        }
        return send(req, res, out);
      },
      (error) => {
        if (!res.headersSent) {
          res.writeHead(500, ["content-type", "application/json"]);
          res.end('{"error":"Internal error"}');
        } else {
          res.destroy(error);
        }
      },
    );
  };
}

/** A Node `IncomingMessage` as the core reads it: the target as sent. */
function fromNode(req) {
  // Express strips a mount path from req.url; originalUrl keeps what was sent.
  const target = req.originalUrl ?? req.url ?? "/";
  const absoluteForm = !target.startsWith("/");
  let rest = target;
  let authority;
  if (absoluteForm) {
    const start = target.indexOf("//");
    const slash = start < 0 ? -1 : target.indexOf("/", start + 2);
    rest = slash < 0 ? "/" : target.slice(slash);
    if (start >= 0) authority = target.slice(start + 2, slash < 0 ? undefined : slash);
  }
  const mark = rest.indexOf("?");
  const headers = req.headers;
  return {
    method: req.method,
    path: mark < 0 ? rest : rest.slice(0, mark),
    query: mark < 0 ? undefined : rest.slice(mark + 1),
    absoluteForm,
    authority,
    peer: req.socket?.remoteAddress,
    original: req,
    header: (name) => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    hasBody: headers["content-length"] !== undefined ? headers["content-length"] !== "0" : headers["transfer-encoding"] !== undefined,
    readBody: (limit) => readStream(req, limit),
  };
}

/** Writes what the core answered to a Node `ServerResponse`. */
function send(req, res, out) {
  if (!out.feed) {
    res.writeHead(out.status, [...out.headers, "content-length", String(out.body.length)]);
    res.end(out.body);
    return;
  }
  res.writeHead(out.status, out.headers);
  res.flushHeaders();
  const stop = out.feed.start({ write: (text) => res.write(text), close: () => res.end() });
  res.on("close", stop);
}
