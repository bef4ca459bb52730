// A Node server around `conferbot-wasm/server`, started like conferbot-bff so
// the same tests can run against either: it takes the BFF's flags that the
// tests use, reads the key and the webhook secret from the same environment
// variables, serves --www at / and --pkg at /pkg/ (Express 5, the handler
// mounted first with `app.use(toNodeListener(h))`), and prints
// `listening on http://ADDR` (and, with --sandbox, `sandbox on http://ADDR`
// after starting a conferbot-sandbox and registering its receiver there).
//
//   node tests/node/handler-server.mjs --listen 127.0.0.1:0 --upstream URL [--rate 60/60s]
//     [--cache-ttl 2s] [--queue-wait 10s] [--allow-origin O]… [--sse-retry 3s] [--redis URL]
//     [--allow-local-webhooks] [--www DIR] [--pkg DIR] [--sandbox [--sandbox-rate R]]
//
// Flags are turned into options by the package's own table (`handlerOptions`:
// each option's flag), so this file names no option or default itself.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import express from "express";

import { pkgDir, sandboxBin, STARTER_KEY } from "./servers.js";

const server = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const { createConferbotHandler, handlerOptions, toNodeListener } = server;

/** `5s`, `100ms`, `2m`, `0` as milliseconds (the flags' duration syntax). */
function millis(text) {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"];
  return Number(match[1]) * unit;
}

function parse(argv) {
  const flags = { options: {}, www: null, pkg: null, listen: "127.0.0.1:0", redis: null, sandbox: false, sandboxRate: "60/60s" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, "");
    const value = () => argv[++i];
    if (flag === "sandbox") flags.sandbox = true;
    else if (flag === "sandbox-rate") flags.sandboxRate = value();
    else if (flag === "listen") flags.listen = value();
    else if (flag === "www") flags.www = value();
    else if (flag === "pkg") flags.pkg = value();
    else if (flag === "redis") flags.redis = value();
    else {
      const option = handlerOptions.find((o) => o.flag === flag);
      if (!option) throw new Error(`handler-server: unknown flag --${flag}`);
      if (typeof option.default === "boolean") {
        flags.options[option.name] = true;
        continue;
      }
      const text = value();
      if (Array.isArray(option.default)) flags.options[option.name] = [...(flags.options[option.name] ?? []), text];
      else if (typeof option.default === "number" && option.name.endsWith("Ms")) flags.options[option.name] = millis(text);
      else if (typeof option.default === "number" || (option.default === undefined && /^\d+$/.test(text))) {
        // A count (or a percentage, "10%", as the flag writes it).
        flags.options[option.name] = /^\d+$/.test(text) ? Number(text) : text;
      } else flags.options[option.name] = text;
    }
  }
  return flags;
}

/**
 * Starts a conferbot-sandbox child: its origin, once it listens. As the
 * BFF's embedded one, without a fixed webhook secret: webhooks made through
 * the API get their own, and the receiver's is set on the admin route.
 */
function startSandbox(rate) {
  const child = spawn(sandboxBin, ["--listen", "127.0.0.1:0", "--rate", rate], { stdio: ["ignore", "pipe", "ignore"] });
  process.on("exit", () => child.kill("SIGKILL"));
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => { child.kill("SIGTERM"); process.exit(0); });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.on("exit", (code) => reject(new Error(`the sandbox exited (${code})`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(buffer);
      if (match) resolve(match[1].replace(/\/$/, ""));
    });
  });
}

const flags = parse(process.argv.slice(2));
let apiKey = process.env.CONFERBOT_API_KEY;
let webhookSecret = process.env.CONFERBOT_WEBHOOK_SECRET;
let sandbox = null;
if (flags.sandbox) {
  webhookSecret ??= `whsec_${randomBytes(12).toString("hex")}`;
  sandbox = await startSandbox(flags.sandboxRate);
  apiKey = STARTER_KEY;
  flags.options.upstream = `${sandbox}/api/v1`;
  // As the BFF's embedded sandbox implies --allow-local-webhooks: its
  // receiver is an http://127.0.0.1 URL.
  const local = handlerOptions.find((o) => o.flag === "allow-local-webhooks");
  flags.options[local.name] = true;
}
let store;
if (flags.redis) {
  const { redisStore } = await import(pathToFileURL(join(pkgDir, "server", "redis-store.js")).href);
  store = redisStore({ url: flags.redis });
}
const handler = createConferbotHandler({ apiKey, ...(webhookSecret ? { webhookSecret } : {}), ...(store ? { store } : {}), ...flags.options });

const app = express();
app.disable("x-powered-by");
// The one metric the tests read from a BFF, here for the handler: event
// streams open (each ends when its response closes).
let streams = 0;
app.use((req, res, next) => {
  if (req.path === "/api/conferbot/events" && req.method === "GET") {
    streams += 1;
    res.on("close", () => { streams -= 1; });
  }
  if (req.path === "/metrics") return res.type("text/plain").send(`conferbot_bff_sse_clients ${streams}\n`);
  return next();
});
app.use(toNodeListener(handler));
if (flags.pkg) app.use("/pkg", express.static(flags.pkg));
if (flags.www) app.use(express.static(flags.www));

const [host, port] = flags.listen.split(":");
const listener = app.listen(Number(port), host, async () => {
  const { address, port: bound } = listener.address();
  const origin = `http://${address}:${bound}`;
  if (sandbox) {
    // As the BFF does with its embedded sandbox: deliveries for every event
    // to this receiver, registered on the sandbox's admin route (as an
    // operator sets a webhook's secret in Conferbot's dashboard; through the
    // API the answer would repeat the secret, which the handler withholds).
    const mount = flags.options.mount ?? handlerOptions.find((o) => o.name === "mount").default;
    const response = await fetch(`${sandbox}/sandbox/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: `${origin}${mount}/webhooks/incoming`, events: ["response.created", "response.updated", "conversation.started", "conversation.completed"], secret: webhookSecret }),
    });
    if (!response.ok) throw new Error(`could not register the receiver: ${response.status} ${await response.text()}`);
  }
  console.log(`listening on ${origin}`);
  if (sandbox) console.log(`sandbox on ${sandbox}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    listener.close();
    listener.closeAllConnections?.();
    process.exit(0);
  });
}
