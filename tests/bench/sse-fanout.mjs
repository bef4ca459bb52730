// SSE fan-out: `clients` Server-Sent Events connections to one BFF, then
// `deliveries` signed webhooks posted as fast as they are accepted; counts
// the `event: response.created` frames each connection receives.
//
// config: { eventsUrl, webhookUrl, secret, clients, deliveries, concurrency, timeoutMs }

import http from "node:http";
import { createHmac, randomBytes } from "node:crypto";
import { config, report } from "./load-client.mjs";

const { eventsUrl, webhookUrl, secret, clients, deliveries, concurrency = 8, timeoutMs = 60000 } = config();
const expected = clients * deliveries;
const agent = new http.Agent({ keepAlive: true, maxSockets: clients + 100 });
const postAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

const counts = new Array(clients).fill(0);
const requests = [];
let received = 0;
let target = expected;
let lastEventAt = 0;
let allDone;
const done = new Promise((resolve) => (allDone = resolve));

/** Opens connection `i`; resolves once its first bytes (the `retry:` hint) arrive. */
function connect(i) {
  return new Promise((resolve, reject) => {
    const req = http.get(eventsUrl, { agent, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET ${eventsUrl} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding("utf8");
      let buffer = "";
      let ready = false;
      res.on("data", (chunk) => {
        if (!ready) {
          ready = true;
          resolve();
        }
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.split("\n").includes("event: response.created")) {
            counts[i]++;
            received++;
            lastEventAt = performance.now();
            if (received >= target) allDone();
          }
        }
      });
      res.on("error", () => {});
    });
    req.on("error", reject);
    requests.push(req);
  });
}

/** Posts one signed delivery; resolves with the status. */
function post(n) {
  const now = new Date().toISOString();
  const id = randomBytes(12).toString("hex");
  // The documented flat delivery body (shared/reference/conferbot-webhooks.md).
  const body = JSON.stringify({
    event: "response.created",
    chatSessionId: `sess_${id.slice(0, 12)}`,
    responseId: id,
    botId: "0123456789abcdef01234567",
    visitorId: `visitor_${id.slice(-6)}`,
    timestamp: now,
  });
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  return new Promise((resolve, reject) => {
    const req = http.request(webhookUrl, {
      method: "POST",
      agent: postAgent,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-webhook-signature": signature,
        "x-webhook-event": "response.created",
        "x-webhook-timestamp": now,
      },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const connectStarted = performance.now();
const pending = [];
for (let i = 0; i < clients; i++) pending.push(connect(i));
await Promise.all(pending);
const connectMs = performance.now() - connectStarted;
// Every stream has sent its first bytes, so every subscriber is registered.
await new Promise((resolve) => setTimeout(resolve, 200));

const statuses = {};
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < deliveries) {
    next++;
    const status = await post(next);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}));
const postMs = performance.now() - started;
const accepted = statuses[200] ?? 0;
// Only accepted deliveries are fanned out.
target = clients * accepted;
if (received >= target) allDone();

const timedOut = await Promise.race([
  done.then(() => false),
  new Promise((resolve) => setTimeout(() => resolve(true), timeoutMs)),
]);
const deliveredMs = (received > 0 ? lastEventAt : performance.now()) - started;
for (const req of requests) req.destroy();
agent.destroy();
postAgent.destroy();

report({
  clients, deliveries, accepted, statuses, connectMs, postMs,
  acceptedPerSecond: accepted / (postMs / 1000),
  expected, received, missing: expected - received, timedOut,
  deliveredMs, eventsPerSecond: received / (deliveredMs / 1000),
  minPerClient: Math.min(...counts), maxPerClient: Math.max(...counts),
});
process.exit(0);
