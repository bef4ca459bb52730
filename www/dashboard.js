// The demo page's script: defines the widgets, shows the responses of the
// chatbot chosen in the table, and says so in words if the widgets cannot
// load (the package or the wasm missing, an old browser), instead of leaving
// "Loading…" on screen forever.

import("./conferbot/index.js").catch((error) => {
  const banner = document.getElementById("load-error");
  if (banner) banner.hidden = false;
  console.error("the dashboard's widgets could not load:", error);
});

// The table says which chatbot was chosen; the responses widget shows it.
// The keyboard focus stays in the table, and the responses scroll into view.
document.addEventListener("conferbot-chatbot-select", (event) => {
  const { id, name } = /** @type {CustomEvent<{id: string, name: string}>} */ (event).detail;
  const responses = document.getElementById("responses");
  if (!responses) return;
  responses.setAttribute("chatbot-name", name);
  responses.setAttribute("chatbot-id", id);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  responses.scrollIntoView({ block: "nearest", behavior: reduced ? "auto" : "smooth" });
});
