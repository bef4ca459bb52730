// `conferbot-wasm/server` for Cloudflare workerd (export conditions
// "workerd" and "worker"): the server's wasm imported as a compiled module
// (wrangler uploads it beside the bundle) and instantiated synchronously.
import wasm from "./conferbot_server_bg.wasm";

import * as glue from "./conferbot_server.js";
import { handlerFactory } from "./core.js";
import { signatureVerifier } from "./signature.js";

const instance = glue.initSync({ module: wasm });

export const createConferbotHandler = handlerFactory(glue, instance.memory);
export const verifyWebhookSignature = signatureVerifier(glue);
export { toNodeListener } from "./adapters.js";
export { handlerOptions } from "./options.js";
