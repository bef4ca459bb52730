// Defines the three Conferbot widgets: <conferbot-chatbots>, <conferbot-usage>
// and <conferbot-webhooks>. Import this module once; each widget also works
// on its own by importing its file.

export { ChatbotsElement } from "./chatbots-element.js";
export { UsageElement } from "./usage-element.js";
export { WebhooksElement } from "./webhooks-element.js";
