// The demo page's script: defines the widgets, and says so in words if they
// cannot load (the package or the wasm missing, an old browser), instead of
// leaving "Loading…" on screen forever.

import("./conferbot/index.js").catch((error) => {
  const banner = document.getElementById("load-error");
  if (banner) banner.hidden = false;
  console.error("the dashboard's widgets could not load:", error);
});
