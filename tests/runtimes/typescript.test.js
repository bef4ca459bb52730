// The package's declarations under `tsc --strict` with no `skipLibCheck`, in
// the consumer setups people have: ESM and CommonJS files (`.mts`, `.cts`)
// under `module` node16 and nodenext, and a bundler project; each at targets
// ES2020 and ES2022 with the target's default libraries. The same usage files
// (fixtures/usage.ts, fixtures/usage-init.ts, and fixtures/server-usage.ts for
// conferbot-wasm/server) are checked in each: correct
// use passes, and each `@ts-expect-error` must still be an error. One
// `tsc -b` checks every project: it parses the shared libraries once.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { installPackedPackage } from "../node/install.js";
import { root } from "../node/servers.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const TSC = join(root, "node_modules/.bin/tsc");
const TARGETS = ["es2020", "es2022"];

/** Each setup: its compiler options and the files it checks (copies of the fixtures). */
const SETUPS = {
  node16: { options: { module: "node16", moduleResolution: "node16" }, files: { "usage.mts": "usage.ts", "usage.cts": "usage.ts", "usage-init.mts": "usage-init.ts", "server-usage.mts": "server-usage.ts", "server-usage.cts": "server-usage.ts" } },
  nodenext: { options: { module: "nodenext", moduleResolution: "nodenext" }, files: { "usage.mts": "usage.ts", "usage.cts": "usage.ts", "usage-init.mts": "usage-init.ts", "server-usage.mts": "server-usage.ts", "server-usage.cts": "server-usage.ts" } },
  bundler: { options: { module: "esnext", moduleResolution: "bundler" }, files: { "usage.ts": "usage.ts", "usage-init.ts": "usage-init.ts", "server-usage.ts": "server-usage.ts" } },
};

describe("the package's types in every TypeScript setup", () => {
  let installed;
  before(() => {
    installed = installPackedPackage();
  });
  after(() => installed?.cleanup());

  const names = TARGETS.flatMap((target) => Object.keys(SETUPS).map((setup) => `${target}/${setup}`));
  test(`tsc --strict, no skipLibCheck, ESM and CommonJS: ${names.join(", ")}`, async () => {
    const projects = [];
    for (const target of TARGETS) {
      for (const [name, setup] of Object.entries(SETUPS)) {
        const project = join(installed.dir, `ts-${target}-${name}`);
        mkdirSync(project);
        for (const [file, fixture] of Object.entries(setup.files)) copyFileSync(join(FIXTURES, fixture), join(project, file));
        const compilerOptions = { ...setup.options, target, strict: true, noEmit: true, skipLibCheck: false, types: [] };
        writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts", "*.mts", "*.cts"] }));
        projects.push(project);
      }
    }
    try {
      await promisify(execFile)(TSC, ["-b", ...projects], { cwd: installed.dir, encoding: "utf8" });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
    }
  });
});
