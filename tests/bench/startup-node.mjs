// One Node start-up sample, in a fresh process: the time from importing the
// client to the first resolved `listChatbots`. xtask runs it once per sample.
//
// config: { client: "wasm"|"plain", wasmEntry, baseUrl, apiKey }

import { config, report, whenReady } from "./load-client.mjs";
import { pathToFileURL } from "node:url";

const { client, wasmEntry, baseUrl, apiKey } = config();
const url = client === "wasm" ? pathToFileURL(wasmEntry).href : new URL("./plain-client.mjs", import.meta.url).href;

const started = performance.now();
const mod = await import(url);
await whenReady(mod);
const imported = performance.now();
const api = new mod.ConferbotClient({ baseUrl, apiKey });
const page = await api.listChatbots({ page: 1, limit: 20 });
const resolved = performance.now();

if (page.data.length === 0) throw new Error("the first page is empty");
report({ importMs: imported - started, firstCallMs: resolved - started, rows: page.data.length });
