// The styles every widget shares, inside its shadow root.
//
// Nothing here leaks into the page and the page's styles do not leak in;
// the page themes the widgets through the `--conferbot-*` custom properties
// listed in www/README.md (they inherit through the shadow boundary), and
// through `::part(...)` for finer changes.

/**
 * A constructable stylesheet from CSS text, for `adoptedStyleSheets`.
 * @param {string} css
 */
export function sheet(css) {
  const s = new CSSStyleSheet();
  s.replaceSync(css);
  return s;
}

/** The frame, headings, buttons, status line and error panel of every widget. */
export const baseSheet = sheet(`
  :host {
    display: block;
    box-sizing: border-box;
    font-family: var(--conferbot-font, system-ui, -apple-system, "Segoe UI", sans-serif);
    font-size: var(--conferbot-font-size, 0.95rem);
    color: var(--conferbot-text, #1d2433);
    background: var(--conferbot-surface, #ffffff);
    border: 1px solid var(--conferbot-border, #d8dde6);
    border-radius: var(--conferbot-radius, 10px);
    padding: var(--conferbot-padding, 1rem 1.25rem);
    container-type: inline-size;
  }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: inherit; }

  header {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    gap: 0.75rem;
    margin-bottom: 0.75rem;
  }
  h2 {
    margin: 0;
    font-size: 1.1rem;
    font-weight: 600;
  }
  .title { display: flex; flex-direction: column; gap: 0.2rem; }

  /* The live-updates indicator: a dot and a few words, never in the way. */
  .live {
    display: inline-flex;
    align-items: center;
    gap: 0.35em;
    margin: 0;
    font-size: 0.8em;
    color: var(--conferbot-muted, #5b6576);
    white-space: nowrap;
  }
  .live[hidden] { display: none; }
  .live-dot {
    width: 0.55em;
    height: 0.55em;
    border-radius: 50%;
    background: var(--conferbot-live-off, #9aa3b2);
  }
  .live[data-state="on"] .live-dot { background: var(--conferbot-live-on, #2f9e5b); }
  .live[data-state="connecting"] .live-dot,
  .live[data-state="reconnecting"] .live-dot { background: var(--conferbot-live-reconnecting, #d99a0b); }

  .muted { color: var(--conferbot-muted, #5b6576); }
  .numeric { font-variant-numeric: tabular-nums; text-align: end; }

  button {
    font: inherit;
    color: var(--conferbot-text, #1d2433);
    background: var(--conferbot-button-background, #f3f5f9);
    border: 1px solid var(--conferbot-border, #d8dde6);
    border-radius: calc(var(--conferbot-radius, 10px) * 0.6);
    padding: 0.3rem 0.75rem;
    cursor: pointer;
  }
  button:hover:not(:disabled) { border-color: var(--conferbot-accent, #3358d4); }
  button:disabled { opacity: 0.5; cursor: default; }
  button.primary {
    color: var(--conferbot-accent-text, #ffffff);
    background: var(--conferbot-accent, #3358d4);
    border-color: var(--conferbot-accent, #3358d4);
  }
  button.danger { color: var(--conferbot-danger, #b42318); }
  :focus-visible {
    outline: 2px solid var(--conferbot-accent, #3358d4);
    outline-offset: 2px;
  }

  .status {
    min-height: 1.3em;
    margin: 0.5rem 0 0;
    color: var(--conferbot-muted, #5b6576);
    font-size: 0.85em;
  }

  .error {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem 0.75rem;
    margin: 0 0 0.75rem;
    padding: 0.6rem 0.8rem;
    border-radius: calc(var(--conferbot-radius, 10px) * 0.6);
    color: var(--conferbot-error-text, #7a1a12);
    background: var(--conferbot-error-background, #fdecea);
    border: 1px solid var(--conferbot-error-border, #f4b8b1);
  }
  .error[hidden] { display: none; }
  .error p { margin: 0; flex: 1 1 16rem; }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }

  [aria-busy="true"] { opacity: 0.6; transition: opacity 0.2s; }
`);
