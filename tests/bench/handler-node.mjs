// The package's server half under load: `http.createServer(toNodeListener(h))`
// in front of the upstream, as a user mounts it. `cargo xtask bench` starts
// it with one JSON argument, `{pkgDir, upstream, cacheTtlMs, rate}` (the key
// in CONFERBOT_API_KEY), and load-tests it with wrk.
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const { pkgDir, upstream, cacheTtlMs, rate } = JSON.parse(process.argv[2]);
const { createConferbotHandler, toNodeListener } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const h = createConferbotHandler({ apiKey: process.env.CONFERBOT_API_KEY, upstream, cacheTtlMs, rate });
const server = createServer(toNodeListener(h));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
