// `conferbot-wasm/server` for Node, Bun and Deno: reads the server's own wasm
// beside this file (the browser's bytes are not in it, nor it in theirs) and
// instantiates it synchronously, so importing needs no init call.
import { readFileSync } from "node:fs";

import * as glue from "./conferbot_server.js";
import { handlerFactory } from "./core.js";
import { signatureVerifier } from "./signature.js";

const instance = glue.initSync({ module: readFileSync(new URL("./conferbot_server_bg.wasm", import.meta.url)) });

export const createConferbotHandler = handlerFactory(glue, instance.memory);
export const verifyWebhookSignature = signatureVerifier(glue);
export { toNodeListener } from "./adapters.js";
export { handlerOptions } from "./options.js";
