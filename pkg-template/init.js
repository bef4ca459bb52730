// `conferbot-wasm/init`: the entry for builds that load the wasm themselves
// (esbuild with `--loader:.wasm=file`, iife bundles, a CDN URL). No top-level
// await and no `import.meta`, so any bundler and output format takes it;
// nothing is fetched until `await init(source)`, and a failure to load is a
// rejection user code can catch, naming the file and where it was looked for.
import load, * as glue from "./conferbot.js";
import { ConferbotError } from "./conferbot_error.js";

export { ConferbotError };
// The protocol facts (PLANS, MAX_LIMIT, …), written from the Rust tables: usable before init().
export * from "./conferbot_facts.js";

/** The file users must serve, as the package ships it. */
const FILE = "conferbot_bg.wasm";
const HOW =
  `Pass init() the URL your bundler gives for "conferbot-wasm/${FILE}" (esbuild: --loader:.wasm=file), ` +
  `a Response, a WebAssembly.Module, or the file's bytes.`;

let loading;
let loaded = false;

/**
 * Loads and instantiates the wasm once; later calls answer the first call's
 * promise (a failed load may be retried).
 */
export function init(source) {
  if (!loading) {
    loading = start(source).then(
      () => { loaded = true; },
      (error) => { loading = undefined; throw error; },
    );
  }
  return loading;
}
export default init;

async function start(source) {
  if (source === undefined || source === null) {
    throw new ConferbotError("invalid_request", `init() needs where to find ${FILE}. ${HOW}`);
  }
  const isLocation = typeof source === "string" || source instanceof URL
    || (typeof Request === "function" && source instanceof Request);
  const isResponse = (typeof Response === "function" && source instanceof Response)
    || typeof source.then === "function";
  if (!isLocation && !isResponse) {
    await instantiate(source, "the given module or bytes");
    return;
  }
  const where = isLocation ? String(source.url ?? source) : "the given Response";
  let response;
  try {
    response = await (isLocation ? fetch(source) : source);
  } catch (cause) {
    throw new ConferbotError("network", `${FILE} could not be fetched from ${where}: ${cause?.message ?? cause}`, { detail: HOW });
  }
  const at = response.url || where;
  if (!response.ok) {
    throw new ConferbotError("network", `${FILE} was not found at ${at} (HTTP ${response.status})`, { status: response.status, detail: HOW });
  }
  await instantiate(response, at);
}

async function instantiate(source, where) {
  try {
    await load({ module_or_path: source });
  } catch (cause) {
    throw new ConferbotError("decode", `${where} is not ${FILE}: ${cause?.message ?? cause}`, { detail: HOW });
  }
}

/** Throws the clear error for a call made before init() finished. */
function ready() {
  if (!loaded) {
    throw new ConferbotError("invalid_request", `conferbot-wasm/init: call \`await init(wasmUrl)\` before using the client. ${HOW}`);
  }
}

export class ConferbotClient extends glue.ConferbotClient {
  constructor(options) {
    ready();
    super(options);
  }
}
