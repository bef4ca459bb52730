// The read commands, for people and pipes: `chatbots`, `responses <id>`,
// `usage` and `webhooks list | create | delete`. Records go to stdout in the
// chosen format and nothing else does; hints for people (which page this
// was) go to stderr, and only when stdout is a terminal.
import { Option } from "commander";

import { number } from "./arguments.js";
import { connect } from "./connection.js";
import { say } from "./failure.js";
import { FORMATS, RecordWriter, VIEWS, defaultFormat, writeOne } from "./output/formats.js";

const formatOption = () =>
  new Option("--format <format>", "table on a terminal, jsonl otherwise").choices(FORMATS);

/** Registers the read commands on `program`; `action` wraps each handler. */
export function registerReads(program, action) {
  const listed = (name, description) =>
    program
      .command(name)
      .description(description)
      .option("--page <n>", "the page to show, from 1 (default 1)", number)
      .option("--limit <n>", "items per page, 1 to 100 (default 20)", number)
      .option("--all", "every page from --page on, not just one")
      .addOption(formatOption());

  listed("chatbots", "list the workspace's chatbots").action(
    action(async (opts, command) => {
      const client = connect(command.optsWithGlobals().baseUrl, command);
      await list((options) => client.listChatbots(params(opts), options), opts, VIEWS.chatbot, "chatbots");
    }),
  );

  listed("responses", "list the responses a chatbot collected")
    .argument("<chatbotId>", "the chatbot's 24-hex-digit id")
    .action(
      action(async (chatbotId, opts, command) => {
        const client = connect(command.optsWithGlobals().baseUrl, command);
        await list((options) => client.listResponses(chatbotId, params(opts), options), opts, VIEWS.response, "responses");
      }),
    );

  program
    .command("usage")
    .description("this month's API calls: used, limit, remaining")
    .addOption(formatOption())
    .action(
      action(async (opts, command) => {
        const client = connect(command.optsWithGlobals().baseUrl, command);
        writeOne(await client.getUsage(), opts.format ?? defaultFormat());
      }),
    );

  const webhooks = program.command("webhooks").description("list, create and delete webhooks");
  webhooks
    .command("list")
    .description("the registered webhooks")
    .addOption(formatOption())
    .action(
      action(async (opts, command) => {
        const client = connect(command.optsWithGlobals().baseUrl, command);
        const writer = new RecordWriter(opts.format ?? defaultFormat(), VIEWS.webhook);
        writer.add(await client.listWebhooks());
        writer.end();
      }),
    );
  webhooks
    .command("create")
    .description("register a webhook; prints it with its signing secret (shown this once)")
    .requiredOption("--url <url>", "where deliveries are POSTed (absolute http(s) URL)")
    .requiredOption("--event <event...>", "response.created, response.updated, conversation.started, conversation.completed")
    .addOption(formatOption())
    .action(
      action(async (opts, command) => {
        const client = connect(command.optsWithGlobals().baseUrl, command);
        const webhook = await client.createWebhook({ url: opts.url, events: opts.event });
        writeOne(webhook, opts.format ?? defaultFormat());
        if (process.stdout.isTTY) say("keep the secret: it verifies deliveries and is not shown again");
      }),
    );
  webhooks
    .command("delete")
    .description("delete a webhook")
    .argument("<webhookId>", "the webhook's 24-hex-digit id")
    .action(
      action(async (webhookId, _opts, command) => {
        const client = connect(command.optsWithGlobals().baseUrl, command);
        await client.deleteWebhook(webhookId);
        say(`deleted webhook ${webhookId}`);
      }),
    );
}

function params(opts) {
  return { page: opts.page, limit: opts.limit };
}

/** One page, or with --all every page from it on, to stdout; jsonl streams page by page. */
async function list(first, opts, view, noun) {
  const format = opts.format ?? defaultFormat();
  const writer = new RecordWriter(format, view);
  let page = await first(undefined);
  try {
    writer.add(page.data);
    while (opts.all && page.hasNextPage()) {
      const current = page;
      page = await current.getNextPage();
      current.free();
      writer.add(page.data);
    }
    writer.end();
    if (!opts.all && process.stdout.isTTY && page.hasNextPage()) {
      const of = page.totalPages === null ? "" : ` of ${page.totalPages}`;
      const total = page.total === null ? "" : ` (${page.total} ${noun})`;
      say(`page ${page.page}${of}${total}: --page ${page.page + 1} for the next, --all for every page`);
    }
  } finally {
    page.free();
  }
}
