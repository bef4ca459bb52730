// The npm package as users get it: packed and installed into a fresh project,
// with the files, manifest and declarations it must have. (tests/runtimes/
// runs it in every runtime and type-checks it in every TypeScript setup.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { installPackedPackage } from "./install.js";
import { root } from "./servers.js";

describe("the packed package", () => {
  let installed;
  before(() => {
    installed = installPackedPackage();
  });
  after(() => {
    installed?.cleanup();
  });

  test("the tarball holds the entry points, the glue, the wasm and the types", () => {
    for (const file of ["package.json", "README.md", "node.js", "browser.js", "workerd.js", "init.js", "index.d.ts", "index.d.cts", "init.d.ts", "conferbot.js", "conferbot.d.ts", "conferbot_error.js", "conferbot_bg.wasm"]) {
      assert.ok(installed.files.includes(file), `${file} in ${installed.files}`);
    }
    assert.ok(installed.files.some((f) => f.startsWith("snippets/") && f.endsWith("conferbot_error.js")));
    const manifest = JSON.parse(readFileSync(join(installed.dir, "node_modules/conferbot-wasm/package.json"), "utf8"));
    assert.equal(manifest.name, "conferbot-wasm");
    assert.equal(manifest.type, "module");
    // Node takes the first condition that matches: workerd's before node's, browser's last.
    assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "workerd", "worker", "node", "browser", "default"]);
    assert.deepEqual(Object.keys(manifest.exports), [".", "./init", "./conferbot_bg.wasm", "./package.json"]);
    const crate = readFileSync(join(root, "Cargo.toml"), "utf8").split("[package]")[1];
    assert.equal(manifest.version, /version = "([^"]+)"/.exec(crate)[1]);
  });

  test("no shipped .d.ts mentions any", () => {
    const base = join(installed.dir, "node_modules/conferbot-wasm");
    const dts = readdirSync(base, { recursive: true }).filter((f) => /\.d\.c?ts$/.test(String(f)));
    assert.deepEqual(dts.sort(), ["conferbot.d.ts", "index.d.cts", "index.d.ts", "init.d.ts"]);
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
});
