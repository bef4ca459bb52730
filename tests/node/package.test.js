// The npm package as users get it: packed and installed into a fresh project,
// with the files, manifest and declarations it must have. (tests/runtimes/
// runs it in every runtime and type-checks it in every TypeScript setup.)
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
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
    for (const file of ["node.js", "workerd.js", "browser.js", "core.js", "forward.js", "events.js", "adapters.js", "redis-store.js", "conferbot_server.js", "conferbot_server_bg.wasm", "index.d.ts", "index.d.cts", "redis.d.ts", "redis.d.cts"]) {
      assert.ok(installed.files.includes(`server/${file}`), `server/${file} in ${installed.files}`);
    }
    const manifest = JSON.parse(readFileSync(join(installed.dir, "node_modules/conferbot-wasm/package.json"), "utf8"));
    assert.equal(manifest.name, "conferbot-wasm");
    assert.equal(manifest.type, "module");
    // Node takes the first condition that matches: workerd's before node's, browser's last.
    assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "workerd", "worker", "node", "browser", "default"]);
    assert.deepEqual(Object.keys(manifest.exports), [".", "./init", "./server", "./server/redis", "./conferbot_bg.wasm", "./package.json"]);
    // The server half: its own wasm per runtime, refused in browser builds, Node's entry by default.
    assert.deepEqual(Object.keys(manifest.exports["./server"]), ["types", "workerd", "worker", "browser", "default"]);
    assert.equal(manifest.exports["./server"].default, "./server/node.js");
    assert.equal(manifest.peerDependenciesMeta.redis.optional, true);
    assert.equal(manifest.dependencies, undefined, "the package depends on nothing");
    const crate = readFileSync(join(root, "Cargo.toml"), "utf8").split("[package]")[1];
    assert.equal(manifest.version, /version = "([^"]+)"/.exec(crate)[1]);
  });

  test("the browser's wasm and glue do not carry the server half, nor the server's the client", () => {
    const base = join(installed.dir, "node_modules/conferbot-wasm");
    const client = readFileSync(join(base, "conferbot.js"), "utf8");
    const server = readFileSync(join(base, "server/conferbot_server.js"), "utf8");
    assert.doesNotMatch(client, /class Policy|sharedLayout|conferbot_server/);
    assert.doesNotMatch(server, /class ConferbotClient|conferbotclient_/);
  });

  test("no shipped .d.ts mentions any", () => {
    const base = join(installed.dir, "node_modules/conferbot-wasm");
    const dts = readdirSync(base, { recursive: true }).filter((f) => /\.d\.c?ts$/.test(String(f)));
    assert.deepEqual(dts.map(String).sort(), ["conferbot.d.ts", "index.d.cts", "index.d.ts", "init.d.ts", "server/index.d.cts", "server/index.d.ts", "server/redis.d.cts", "server/redis.d.ts"]);
    for (const file of dts) {
      const text = readFileSync(join(base, file), "utf8");
      assert.doesNotMatch(text, /\bany\b/, file);
    }
  });
});
