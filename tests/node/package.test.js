// The npm package as users get it: packed, installed into a fresh project,
// imported by name from a Node script, and type-checked with tsc --strict.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { installPackedPackage } from "./install.js";
import { STARTER_KEY, root, startSandbox } from "./servers.js";

describe("the packed package", () => {
  let installed;
  let sandbox;
  before(async () => {
    installed = installPackedPackage();
    sandbox = await startSandbox();
  });
  after(() => {
    sandbox?.stop();
    installed?.cleanup();
  });

  test("the tarball holds the entry points, the glue, the wasm and the types", () => {
    for (const file of ["package.json", "README.md", "node.js", "browser.js", "index.d.ts", "conferbot.js", "conferbot.d.ts", "conferbot_bg.wasm"]) {
      assert.ok(installed.files.includes(file), `${file} in ${installed.files}`);
    }
    assert.ok(installed.files.some((f) => f.startsWith("snippets/") && f.endsWith("conferbot_error.js")));
    const manifest = JSON.parse(readFileSync(join(installed.dir, "node_modules/conferbot-wasm/package.json"), "utf8"));
    assert.equal(manifest.name, "conferbot-wasm");
    assert.equal(manifest.type, "module");
    assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "node", "browser", "default"]);
    const crate = readFileSync(join(root, "Cargo.toml"), "utf8").split("[package]")[1];
    assert.equal(manifest.version, /version = "([^"]+)"/.exec(crate)[1]);
  });

  test("a Node script in a fresh project imports it by name and lists chatbots", () => {
    writeFileSync(
      join(installed.dir, "list.mjs"),
      `import { ConferbotClient, ConferbotError } from "conferbot-wasm";
       const client = new ConferbotClient({ apiKey: process.env.KEY, baseUrl: process.env.BASE });
       const page = await client.listChatbots({ limit: 3 });
       const error = await client.getChatbot("000000000000000000000000").catch((e) => e);
       console.log(JSON.stringify({ total: page.total, names: page.data.map((b) => b.name),
         notFound: error instanceof ConferbotError && error.kind }));`,
    );
    const out = execFileSync("node", ["list.mjs"], {
      cwd: installed.dir,
      encoding: "utf8",
      env: { ...process.env, KEY: STARTER_KEY, BASE: sandbox.api },
      timeout: 20_000,
    });
    const result = JSON.parse(out);
    assert.equal(result.total, 137);
    assert.equal(result.names.length, 3);
    assert.equal(result.notFound, "not_found");
  });

  test("no shipped .d.ts mentions any", () => {
    const base = join(installed.dir, "node_modules/conferbot-wasm");
    const dts = readdirSync(base, { recursive: true }).filter((f) => String(f).endsWith(".d.ts"));
    assert.deepEqual(dts.sort(), ["conferbot.d.ts", "index.d.ts"]);
    for (const file of dts) {
      const text = readFileSync(join(base, file), "utf8");
      assert.doesNotMatch(text, /\bany\b/, file);
    }
  });

  test("tsc --strict narrows live events by type, and types the new surface", () => {
    writeFileSync(
      join(installed.dir, "events.ts"),
      `import { ConferbotClient, PLANS, MAX_LIMIT, planFacts } from "conferbot-wasm";
       import type { ConferbotEvent, PagePromise, Chatbot, PlanFacts } from "conferbot-wasm";
       const client = new ConferbotClient({ baseUrl: "http://localhost:8787/api/conferbot" });
       export async function main(): Promise<number> {
         let n = 0;
         const pages: PagePromise<Chatbot> = client.listChatbots({ limit: MAX_LIMIT });
         for await (const bot of pages) n += bot.responseCount;
         for await (const page of (await pages).iterPages()) n += page.data.length;
         const derived: ConferbotClient = client.withOptions({ timeoutMs: 1000 });
         void derived;
         for await (const event of client.events()) {
           const seen: ConferbotEvent = event;
           switch (seen.type) {
             case "response.created": { const v: string = seen.data.visitorId; const t: string = seen.timestamp; n += v.length + t.length; break; }
             case "response.updated": { const r: string = seen.data.responseId; n += r.length;
               // @ts-expect-error: response.updated names no visitor
               const v: string = seen.data.visitorId; void v; break; }
             case "conversation.started": case "conversation.completed": { const s: string | undefined = seen.data.chatSessionId; n += s?.length ?? 0; break; }
             case "resync": { const why: string = seen.data.reason; const t: null = seen.timestamp; void t; n += why.length; break; }
             case "unknown": { const name: string = seen.name; n += name.length; break; }
             default: { const never: never = seen; void never; }
           }
         }
         try { await client.getUsage(); } catch (e) {
           if (e instanceof Error && "requestId" in e) { const id = (e as { requestId: string | null }).requestId; void id; }
         }
         const plan: PlanFacts | null = planFacts("pro");
         return n + PLANS.length + (plan?.webhooks ?? 0);
       }`,
    );
    const tsc = join(root, "node_modules/.bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom,esnext.disposable,esnext.asynciterable", "--skipLibCheck", "false", "events.ts"];
    try {
      execFileSync(tsc, args, { cwd: installed.dir, encoding: "utf8" });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}`);
    }
  });

  test("tsc --noEmit --strict accepts correct use and rejects wrong use", () => {
    writeFileSync(
      join(installed.dir, "usage.ts"),
      `import { ConferbotClient, ConferbotError, verifyWebhookSignature } from "conferbot-wasm";
       import type { Chatbot, ConferbotErrorKind, ConferbotEvent, Page, Usage, Webhook, WebhookEvent } from "conferbot-wasm";
       const client = new ConferbotClient({ baseUrl: "http://localhost:8787/api/conferbot", timeoutMs: 5000 });
       export async function main(signal: AbortSignal): Promise<number> {
         const page: Page<Chatbot> = await client.listChatbots({ limit: 10 }, { signal, maxRetries: 1 });
         const next: Page<Chatbot> | null = page.hasNextPage() ? await page.getNextPage() : null;
         let names = 0;
         for await (const bot of client.chatbots({ limit: 50 })) names += bot.name.length;
         for await (const r of client.responses(page.data[0]?.id ?? "", {})) names += Object.keys(r.answers).length;
         const usage: Usage = await client.getUsage();
         const limit: number | null = usage.limit;
         const hooks: Webhook[] = await client.listWebhooks();
         const event: WebhookEvent = hooks[0]?.events[0] ?? "response.created";
         for await (const live of client.events({ signal, timeoutMs: 5000 })) {
           const seen: ConferbotEvent = live;
           const type: WebhookEvent | "resync" = seen.type;
           const when: string | null = seen.timestamp;
           const chatbot = seen.data.botId;
           if (typeof chatbot === "string") names += chatbot.length + seen.id.length;
           // @ts-expect-error: an event's id is a string
           const wrongId: number = seen.id;
           void type; void when; void wrongId;
           break;
         }
         // @ts-expect-error: events() takes no list params
         client.events({ limit: 5 });
         const created = await client.createWebhook({ url: "https://x.com", events: ["response.created"] });
         await client.deleteWebhook(created.id);
         try { await client.getChatbot("x"); } catch (e) {
           if (e instanceof ConferbotError) { const k: ConferbotErrorKind = e.kind; const s: number | null = e.status; void k; void s; }
         }
         // @ts-expect-error: limit and remaining may be null (unlimited)
         const wrong: number = usage.remaining;
         // @ts-expect-error: only the documented events can be registered
         await client.createWebhook({ url: "https://x.com", events: ["bot.deleted"] });
         // @ts-expect-error: a chatbot has no such field
         void page.data[0]?.owner;
         void next; void event; void wrong;
         return names + (limit ?? 0) + (verifyWebhookSignature("{}", "00", "s") ? 1 : 0);
       }`,
    );
    const tsc = join(root, "node_modules/.bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom,esnext.disposable", "--skipLibCheck", "false", "usage.ts"];
    try {
      execFileSync(tsc, args, { cwd: installed.dir, encoding: "utf8" });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}`);
    }
  });
});
