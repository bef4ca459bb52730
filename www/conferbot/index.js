// Defines the four Conferbot widgets: <conferbot-chatbots>, <conferbot-responses>,
// <conferbot-usage> and <conferbot-webhooks>. Import this module once; each
// widget also works on its own by importing its file.

export { ChatbotsElement, SELECT_EVENT } from "./chatbots-element.js";
export { ResponsesElement } from "./responses-element.js";
export { UsageElement } from "./usage-element.js";
export { WebhooksElement } from "./webhooks-element.js";
