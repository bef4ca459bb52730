// `verifyWebhookSignature` of `conferbot-wasm/server`, used as a webhook
// receiver written in Node uses it: the real sandbox delivers signed events
// to a Node server on a free port, which checks each raw body against the
// webhook's secret. Tampered bodies, other secrets and malformed signatures
// are `false`; arguments of the wrong type are a TypeError.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { pkgDir, startSandbox } from "./servers.js";

const { verifyWebhookSignature } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const SECRET = "whsec_receiver_test";

/** A receiver that keeps every delivery's raw bytes and headers. */
async function startReceiver() {
  const received = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    received.push({ body: new Uint8Array(Buffer.concat(chunks)), headers: req.headers });
    res.writeHead(200).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

describe("verifyWebhookSignature (conferbot-wasm/server) on the sandbox's real deliveries", () => {
  let sandbox;
  let receiver;
  let delivery;

  before(async () => {
    sandbox = await startSandbox();
    receiver = await startReceiver();
    const created = await fetch(`${sandbox.origin}/sandbox/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: receiver.url, events: ["response.created"], secret: SECRET }),
    });
    assert.equal(created.status, 201, await created.text());
    await sandbox.admin.simulate();
    const deadline = Date.now() + 10_000;
    while (receiver.received.length === 0) {
      if (Date.now() > deadline) throw new Error("the sandbox delivered nothing in 10 s");
      await sleep(20);
    }
    delivery = receiver.received[0];
  });

  after(async () => {
    await receiver?.stop();
    await sandbox?.stop();
  });

  test("a delivery verifies, as bytes and as the string it decodes to", () => {
    const signature = delivery.headers["x-webhook-signature"];
    assert.match(signature, /^[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(delivery.body, signature, SECRET), true);
    assert.equal(verifyWebhookSignature(new TextDecoder().decode(delivery.body), signature, SECRET), true);
    assert.equal(verifyWebhookSignature(delivery.body, signature, new TextEncoder().encode(SECRET)), true);
    assert.equal(JSON.parse(new TextDecoder().decode(delivery.body)).event, "response.created");
  });

  test("a tampered body, another secret or a malformed signature is false", () => {
    const signature = delivery.headers["x-webhook-signature"];
    const tampered = new TextDecoder().decode(delivery.body).replace("response.created", "response.updated");
    assert.equal(verifyWebhookSignature(tampered, signature, SECRET), false);
    assert.equal(verifyWebhookSignature(delivery.body, signature, "whsec_other"), false);
    assert.equal(verifyWebhookSignature(delivery.body, signature.slice(0, 62), SECRET), false);
    assert.equal(verifyWebhookSignature(delivery.body, "zz", SECRET), false);
    assert.equal(verifyWebhookSignature(delivery.body, "", SECRET), false);
  });

  test("arguments of the wrong type are a TypeError naming the argument", () => {
    const signature = delivery.headers["x-webhook-signature"];
    assert.throws(() => verifyWebhookSignature(42, signature, SECRET), (e) => e instanceof TypeError && /rawBody/.test(e.message));
    assert.throws(() => verifyWebhookSignature(delivery.body, null, SECRET), (e) => e instanceof TypeError && /signature/.test(e.message));
    assert.throws(() => verifyWebhookSignature(delivery.body, signature, undefined), (e) => e instanceof TypeError && /secret/.test(e.message));
  });
});
