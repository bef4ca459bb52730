// <conferbot-webhooks>: the registered webhooks, a form to add one, and a
// Delete button on each; the plan's limit is shown, and a refusal explained.

import { h, replaceChildren } from "./dom.js";
import { ConferbotElement } from "./element-base.js";
import { describeError, errorKind } from "./error-wording.js";
import { formatCount, formatDateTime, formatNumber, formatTime } from "./format.js";
import { WEBHOOK_EVENTS, planFacts } from "./package.js";
import { sheet } from "./styles.js";

/**
 * Webhooks the plan allows, or `null` for a plan the package does not know
 * (the package's plan table, written from the core crate's).
 * @param {string} plan
 * @returns {number | null}
 */
const webhookLimit = (plan) => planFacts(plan)?.webhooks ?? null;

/** @typedef {import("./package.js").Webhook} Webhook */
/** @typedef {{webhooks: Webhook[], plan: string}} WebhooksView */

const styles = sheet(`
  .limit { margin: 0 0 0.6rem; }
  ul { list-style: none; margin: 0 0 1rem; padding: 0; }
  li {
    display: grid;
    grid-template-columns: minmax(0, 1fr) auto;
    grid-template-areas: "url delete" "details delete";
    align-items: center;
    gap: 0.3rem 0.75rem;
    padding: 0.55rem 0;
    border-bottom: 1px solid var(--conferbot-border, #d8dde6);
  }
  li button { grid-area: delete; }
  .url { grid-area: url; overflow-wrap: anywhere; font-family: var(--conferbot-mono-font, ui-monospace, monospace); font-size: 0.9em; }
  .details { grid-area: details; display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.75rem; }
  .events { display: flex; flex-wrap: wrap; gap: 0.25rem; }
  .event {
    padding: 0.05rem 0.45rem;
    border-radius: 999px;
    font-size: 0.78em;
    background: var(--conferbot-badge-background, #eef1f6);
  }
  .meta { font-size: 0.8em; color: var(--conferbot-muted, #5b6576); }
  .empty { color: var(--conferbot-muted, #5b6576); margin: 0 0 1rem; }
  form { display: grid; gap: 0.6rem; }
  label.url-label { display: grid; gap: 0.25rem; font-weight: 600; }
  input[type="url"] {
    font: inherit;
    font-weight: normal;
    padding: 0.35rem 0.5rem;
    border: 1px solid var(--conferbot-border, #d8dde6);
    border-radius: calc(var(--conferbot-radius, 10px) * 0.6);
    background: var(--conferbot-input-background, #ffffff);
    color: inherit;
  }
  fieldset {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 1rem;
    margin: 0;
    padding: 0.4rem 0.6rem 0.6rem;
    border: 1px solid var(--conferbot-border, #d8dde6);
    border-radius: calc(var(--conferbot-radius, 10px) * 0.6);
  }
  legend { font-weight: 600; padding: 0 0.25rem; }
  fieldset label { display: inline-flex; gap: 0.3rem; align-items: center; font-family: var(--conferbot-mono-font, ui-monospace, monospace); font-size: 0.88em; }
  .actions { display: flex; align-items: center; gap: 0.75rem; }
  .form-message { margin: 0; }
  .form-message:empty { display: none; }
  .form-message.refused { color: var(--conferbot-error-text, #7a1a12); }
  .secret code { overflow-wrap: anywhere; }
`);

/** @extends {ConferbotElement<WebhooksView>} */
export class WebhooksElement extends ConferbotElement {
  /** @type {WebhooksView | null} */
  #shown = null;
  #limit = h("p", { class: "limit", part: "limit", "data-field": "limit" });
  #list = h("div", { class: "list" });
  /** @type {HTMLInputElement} */
  #url = h("input", { type: "url", id: "webhook-url", name: "url", autocomplete: "url", placeholder: "https://example.com/hooks/conferbot" });
  /** One checkbox per documented event, the first one ticked. */
  #events = WEBHOOK_EVENTS.map((event, i) => ({
    event,
    box: h("input", { type: "checkbox", name: "events", value: event, checked: i === 0 }),
  }));
  /** @type {HTMLButtonElement} */
  #add = h("button", { type: "submit", class: "primary" }, "Add webhook");
  /** Success and progress, politely announced. */
  #formStatus = h("p", { class: "form-message", role: "status" });
  /** Refusals and failures of adding or deleting, announced at once. */
  #formError = h("p", { class: "form-message refused", role: "alert" });

  constructor() {
    super("Webhooks", [styles]);
    this.body.append(
      this.#limit,
      this.#list,
      h("form", { novalidate: true, "aria-label": "Add a webhook", onsubmit: (/** @type {Event} */ e) => this.#onSubmit(e) },
        h("label", { class: "url-label", for: "webhook-url" }, "Webhook URL", this.#url),
        h("fieldset", {}, h("legend", {}, "Events"),
          this.#events.map(({ event, box }) => h("label", {}, box, event))),
        h("div", { class: "actions" }, this.#add),
        this.#formStatus,
        this.#formError),
    );
  }

  /** @override */
  loadingText() {
    return "Loading webhooks…";
  }

  /**
   * @override
   * @param {AbortSignal} signal
   * @returns {Promise<WebhooksView>}
   */
  async fetchView(signal) {
    // The plan comes with the usage; it names the limit shown beside the list.
    const [webhooks, usage] = await Promise.all([this.client.listWebhooks({ signal }), this.client.getUsage({ signal })]);
    return { webhooks, plan: usage.plan };
  }

  /**
   * @override
   * @param {WebhooksView} view
   */
  renderView(view) {
    this.#shown = view;
    const limit = webhookLimit(view.plan);
    this.#limit.textContent = limit === null
      ? `${formatCount(view.webhooks.length, "webhook")} (${view.plan} plan).`
      : `${formatNumber(view.webhooks.length)} of ${formatCount(limit, "webhook")} in use (${view.plan} plan).`;
    replaceChildren(this.#list, view.webhooks.length === 0
      ? h("p", { class: "empty" }, "No webhooks yet.")
      : h("ul", { "aria-label": "Registered webhooks" }, view.webhooks.map((hook) => this.#item(hook))));
    return `${formatCount(view.webhooks.length, "webhook")} registered; updated at ${formatTime(new Date())}.`;
  }

  /** @param {Webhook} hook */
  #item(hook) {
    return h("li", { "data-id": hook.id },
      h("span", { class: "url" }, hook.url),
      h("span", { class: "details" },
        h("span", { class: "events", "aria-label": "Events" }, hook.events.map((e) => h("span", { class: "event" }, e))),
        h("span", { class: "meta" }, hook.active ? "active" : "paused", " · added ", formatDateTime(hook.createdAt))),
      h("button", {
        type: "button",
        class: "danger",
        "aria-label": `Delete webhook ${hook.url}`,
        onclick: (/** @type {Event} */ e) => this.#delete(hook, /** @type {HTMLButtonElement} */ (e.currentTarget)),
      }, "Delete"));
  }

  /** @param {Event} event */
  async #onSubmit(event) {
    event.preventDefault();
    const url = this.#url.value.trim();
    const events = this.#events.filter(({ box }) => box.checked).map(({ event }) => event);
    this.#say("Adding the webhook…");
    this.#add.disabled = true;
    try {
      const created = await this.client.createWebhook({ url, events });
      this.#url.value = "";
      this.#say("Webhook added.", created.secret
        ? h("span", { class: "secret" }, " Its signing secret, shown only this once: ", h("code", {}, created.secret))
        : null);
      await this.reload();
    } catch (error) {
      this.#refuse(this.#wordsForAddFailure(error));
      if (errorKind(error) === "invalid_request") this.#url.focus();
    } finally {
      this.#add.disabled = false;
    }
  }

  /**
   * @param {Webhook} hook
   * @param {HTMLButtonElement} button
   */
  async #delete(hook, button) {
    button.disabled = true;
    this.#say(`Deleting the webhook for ${hook.url}…`);
    try {
      await this.client.deleteWebhook(hook.id);
      this.#say(`Deleted the webhook for ${hook.url}.`);
    } catch (error) {
      if (errorKind(error) === "not_found") {
        this.#say(`The webhook for ${hook.url} was already deleted.`);
      } else {
        this.#refuse(wordsForAction(error));
        button.disabled = false;
        return;
      }
    }
    await this.reload();
    this.#url.focus();
  }

  /**
   * Why adding failed. A `403` is the plan's limit (or a plan without
   * webhooks); the server's answer decides, the numbers only explain it.
   * @param {unknown} error
   */
  #wordsForAddFailure(error) {
    if (errorKind(error) !== "forbidden") return wordsForAction(error);
    const plan = this.#shown?.plan;
    const limit = plan ? webhookLimit(plan) : null;
    const inUse = this.#shown?.webhooks.length ?? 0;
    if (plan && limit === 0) {
      return `The ${plan} plan does not include webhooks. Move to a bigger plan to add one.`;
    }
    if (plan && limit !== null) {
      return `The ${plan} plan allows ${formatCount(limit, "webhook")}${inUse >= limit ? `, and all ${formatNumber(limit)} are in use` : ""}. Delete one, or move to a bigger plan, to add another.`;
    }
    return "Your plan's webhook limit has been reached. Delete a webhook, or move to a bigger plan, to add another.";
  }

  /**
   * Progress or success, replacing any earlier refusal.
   * @param {string} text
   * @param {Node | null} [extra]
   */
  #say(text, extra = null) {
    replaceChildren(this.#formError);
    replaceChildren(this.#formStatus, text, extra);
  }

  /** @param {string} text */
  #refuse(text) {
    replaceChildren(this.#formStatus);
    this.#formError.textContent = text;
  }
}

/**
 * Words for a failed add or delete: like a failed load's, but a rate limit
 * asks the person to try again rather than promising an automatic retry.
 * @param {unknown} error
 */
function wordsForAction(error) {
  const wording = describeError(error);
  return wording.retryInSeconds === null
    ? wording.text
    : `Too many requests for now; try again in ${wording.retryInSeconds} s.`;
}

customElements.define("conferbot-webhooks", WebhooksElement);
