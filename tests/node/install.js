// Installing the built package the way users get it: `npm pack` of pkg/, then
// `npm install <tarball>` into a fresh project in a temp dir outside the repo
// (no registry needed: the package has no dependencies).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { pkgDir } from "./servers.js";

/** `{ dir, tarball, files, cleanup }`: a temp project with conferbot-wasm installed. */
export function installPackedPackage() {
  const dir = mkdtempSync(join(tmpdir(), "conferbot-wasm-pack-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", pkgDir, "--json", "--pack-destination", dir], { encoding: "utf8" }),
  );
  const tarball = join(dir, packed[0].filename);
  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund"], { cwd: app, stdio: "pipe" });
  return {
    dir: app,
    tarball,
    files: packed[0].files.map((f) => f.path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
