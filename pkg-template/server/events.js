// Live events, as conferbot-bff serves them: the webhook receiver (checks;
// the delivery applied to the cached reads by the patch rules and the event
// numbered, in one step once per delivery; a receipt),
// the in-process event log's fan-out, and one SSE stream per browser. The
// policy frames every byte and each stream's cursor decides what to send,
// skip, or fill in from the log; this file owns the timers and the sinks.
import { body, plain } from "./core.js";

/**
 * The in-process log (the policy's) and its fan-out: `{publish, subscribe,
 * replayAfter, latest}`. Publishing a new delivery also applies it to the
 * cached reads, before any stream hears of it.
 */
export function localEvents(policy, clock) {
  const listeners = new Set();
  return {
    async publish(delivery) {
      const id = policy.publishLocal(delivery, clock());
      if (id > 0) {
        const event = { id, event: delivery.event, data: delivery.data };
        for (const listener of listeners) listener({ event });
      }
      return id;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async replayAfter(last) {
      return policy.replayAfter(last);
    },
    async latest() {
      return policy.latestEvent();
    },
  };
}

/** `POST` to the receiver: refused, or accepted, applied and acknowledged. */
export async function receiveWebhook(state, request) {
  const { policy } = state;
  const { bytes, problem } = await body(request, policy.maxBodyBytes);
  const delivery = policy.webhook(
    request.method,
    request.header("x-webhook-signature"),
    request.header("x-webhook-event"),
    request.header("x-webhook-timestamp"),
    bytes,
    problem,
    Date.now() / 1000,
  );
  try {
    const refusal = delivery.takeReply();
    if (refusal) return plain(refusal);
    try {
      const id = await state.events.publish(delivery);
      return plain(policy.receipt(id));
    } catch {
      // The shared state is down: the sender retries later.
      return plain(policy.webhookUnavailable());
    }
  } finally {
    delivery.free();
  }
}

/**
 * One browser's stream: `{start(sink) → stop}`, `sink` being `{write(text), close()}`.
 * The `retry:` hint first; with `Last-Event-ID`, what the log has after it;
 * then each event once, gaps filled from the log, `event: resync` when events
 * were lost for good, and a keepalive comment on idle streams.
 */
export function eventFeed(state, lastEventIdHeader) {
  const { policy, glue, events } = state;
  return {
    start(sink) {
      let cursor = null;
      let closed = false;
      let quiet;
      const early = [];
      const send = (text) => {
        if (closed) return;
        sink.write(text);
        clearTimeout(quiet);
        quiet = setTimeout(() => send(policy.keepalive), policy.sseHeartbeatMs);
      };
      const sendEvent = (event) => {
        if (!cursor.offer(event.id)) return;
        send(policy.eventFrame(event.id, event.event, event.data));
      };
      const queue = (replay) => {
        if (replay.truncated) send(policy.resyncFrame());
        for (const event of replay.events) sendEvent(event);
      };
      // Ends the stream when the log cannot be read: the browser reconnects
      // with Last-Event-ID after `retry`.
      const fill = async () => {
        try {
          queue(await events.replayAfter(cursor.lastSent));
        } catch {
          stop();
        }
      };
      let chain = Promise.resolve();
      const hear = (message) => {
        if (!cursor) {
          early.push(message);
          return;
        }
        chain = chain.then(async () => {
          if (closed) return;
          if (message.event) {
            if (cursor.gapBefore(message.event.id)) await fill();
            if (!closed) sendEvent(message.event);
          } else if (cursor.canFill()) {
            await fill();
          }
        });
      };
      // Listen first, then read the log: an event in between is in both,
      // and is sent once (the cursor skips ids already sent).
      const unsubscribe = events.subscribe(hear);
      const stop = () => {
        if (closed) return;
        closed = true;
        clearTimeout(quiet);
        unsubscribe();
        cursor?.free();
        sink.close();
      };
      send(policy.retryFrame());
      const last = policy.lastEventId(lastEventIdHeader ?? undefined);
      (async () => {
        if (last !== undefined) {
          try {
            const replay = await events.replayAfter(last);
            cursor = glue.SseCursor.resuming(last, replay.latest);
            queue(replay);
          } catch {
            cursor = glue.SseCursor.atLatest(undefined);
          }
        } else {
          cursor = glue.SseCursor.atLatest(await events.latest().catch(() => undefined));
        }
        for (const message of early.splice(0)) hear(message);
      })();
      return stop;
    },
  };
}
