//! `client.events()` against a scripted `fetch` whose answers stream their
//! bodies chunk by chunk, run in Node and in headless Chromium: events split
//! anywhere, reconnection with `Last-Event-ID` after a dropped stream and
//! after failed connections, `break` and the signal closing the stream, and
//! the answers that end the iteration with an error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test
#![cfg(target_arch = "wasm32")]

use conferbot::wasm::ConferbotClient;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
// Answers connections from `script` in order (the last one repeats): each
// step is { fail: "message" } (a network error), or an answer
// { status, headers, body } or { chunks: [...], hold } whose body streams the
// chunks one by one, then ends (or, with `hold`, stays open until aborted).
export function scriptStreams(script) {
  const fake = { calls: [], signals: [] };
  const original = globalThis.fetch;
  const encoder = new TextEncoder();
  globalThis.fetch = (url, init = {}) => {
    fake.calls.push({ url: String(url), method: init.method,
                      headers: Object.fromEntries(new Headers(init.headers).entries()) });
    const signal = init.signal;
    fake.signals.push(signal);
    const step = script.length > 1 ? script.shift() : script[0];
    if (step.fail) return Promise.reject(new TypeError(step.fail));
    const body = !step.chunks ? step.body ?? null : new ReadableStream({
      async start(controller) {
        let cut = false;
        signal?.addEventListener("abort", () => {
          cut = true;
          try { controller.error(new DOMException("aborted", "AbortError")); } catch {}
        });
        for (const chunk of step.chunks) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (cut) return;
          controller.enqueue(encoder.encode(chunk));
        }
        if (!step.hold) controller.close();
      },
    });
    const headers = step.headers ?? { "content-type": "text/event-stream" };
    return Promise.resolve(new Response(body, { status: step.status ?? 200, headers }));
  };
  fake.restore = () => { globalThis.fetch = original; };
  return fake;
}
export function json(text) { return JSON.parse(text); }
// Iterates with `for await` and leaves the loop (`break`) after `count` events.
export async function take(iterable, count) {
  const items = [];
  if (count === 0) return items;
  for await (const item of iterable) {
    items.push(item);
    if (items.length >= count) break;
  }
  return items;
}
export function abortAfter(ms) { const c = new AbortController(); setTimeout(() => c.abort(), ms); return c.signal; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = scriptStreams)]
    fn script_streams(script: JsValue) -> JsValue;
    fn json(text: &str) -> JsValue;
    fn take(iterable: &JsValue, count: u32) -> Promise;
    #[wasm_bindgen(js_name = abortAfter)]
    fn abort_after(ms: u32) -> JsValue;
}

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn at(value: &JsValue, path: &str) -> JsValue {
    path.split('.')
        .fold(value.clone(), |v, key| match key.parse::<u32>() {
            Ok(i) => Reflect::get_u32(&v, i).unwrap_or(JsValue::UNDEFINED),
            Err(_) => field(&v, key),
        })
}

/// A scripted fetch, restored when dropped (also when a test fails).
struct Fake(JsValue);

impl Fake {
    fn new(script: &str) -> Self {
        Self(script_streams(json(script)))
    }
    fn calls(&self) -> u32 {
        js_sys::Array::from(&field(&self.0, "calls")).length()
    }
    fn call(&self, i: u32) -> JsValue {
        at(&self.0, &format!("calls.{i}"))
    }
    fn signal_aborted(&self, i: u32) -> JsValue {
        at(&self.0, &format!("signals.{i}.aborted"))
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let restore: Function = field(&self.0, "restore").unchecked_into();
        let _ = restore.call0(&JsValue::NULL);
    }
}

fn bff() -> ConferbotClient {
    ConferbotClient::new(json(r#"{"baseUrl": "http://bff.test/api/conferbot/"}"#))
        .expect("valid options")
}

/// `text` as a JSON string literal, to put SSE text into a script.
fn quoted(text: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(text))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

fn chunks(parts: &[&str]) -> String {
    let parts: Vec<String> = parts.iter().map(|p| quoted(p)).collect();
    format!("[{}]", parts.join(","))
}

const CREATED: &str = r#"{"event":"response.created","chatSessionId":"sess_abc123def456","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_xyz789","timestamp":"2024-12-15T09:30:00.000Z","channel":{"n":1}}"#;

async fn resolve(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("resolves")
}

async fn reject(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect_err("rejects")
}

#[wasm_bindgen_test]
async fn events_split_anywhere_arrive_whole_and_a_dropped_stream_resumes_from_its_last_id() {
    let first = format!("id: 1\nevent: response.created\ndata: {CREATED}\n\n");
    let (a, b) = first.split_at(40);
    let script = format!(
        r#"[{{"chunks":{}}},{{"chunks":{},"hold":true}}]"#,
        chunks(&[
            "retry: 10\n\n: keepalive\n\n",
            a,
            b,
            "event: resync\r\ndata: {\"reason\":\"missed\"}\r\n\r",
        ]),
        chunks(&[
            "\nid: 2\nevent: conversation.started\ndata: {\"event\":\"conversation.started\",\"timestamp\":\"2024-09-01T10:30:00.000Z\",",
            "\"chatSessionId\":\"sess_c1\",\"botId\":\"64f8a2b3c1d4e5f6a7b8c9d0\"}\n\n",
        ]),
    );
    let fake = Fake::new(&script);
    let events = resolve(take(&bff().events(JsValue::UNDEFINED), 3)).await;
    assert_eq!(at(&events, "0.type"), "response.created");
    assert_eq!(at(&events, "0.id"), "1");
    assert_eq!(at(&events, "0.timestamp"), "2024-12-15T09:30:00.000Z");
    assert_eq!(at(&events, "0.data.botId"), "64f8a2b3c1d4e5f6a7b8c9d0");
    assert_eq!(at(&events, "0.data.responseId"), "65a1b2c3d4e5f6a7b8c9d0e1");
    assert_eq!(
        at(&events, "0.data.channel.n"),
        1,
        "unknown fields are kept"
    );
    assert_eq!(at(&events, "1.type"), "resync");
    assert_eq!(at(&events, "1.id"), "1");
    assert_eq!(at(&events, "1.timestamp"), JsValue::NULL);
    assert_eq!(at(&events, "1.data.reason"), "missed");
    assert_eq!(at(&events, "2.type"), "conversation.started");
    assert_eq!(at(&events, "2.id"), "2");
    assert_eq!(at(&events, "2.timestamp"), "2024-09-01T10:30:00.000Z");
    assert_eq!(at(&events, "2.data.chatSessionId"), "sess_c1");
    assert_eq!(
        fake.calls(),
        2,
        "one reconnection after the first stream ended"
    );
    let opened = fake.call(0);
    assert_eq!(at(&opened, "url"), "http://bff.test/api/conferbot/events");
    assert_eq!(at(&opened, "method"), "GET");
    assert_eq!(at(&opened, "headers.accept"), "text/event-stream");
    assert_eq!(at(&opened, "headers.last-event-id"), JsValue::UNDEFINED);
    assert_eq!(at(&fake.call(1), "headers.last-event-id"), "1");
    assert_eq!(
        fake.signal_aborted(1),
        JsValue::TRUE,
        "leaving the loop closes the open stream"
    );
}

#[wasm_bindgen_test]
async fn failed_connections_are_retried_until_a_stream_opens() {
    let event = format!("id: 7\nevent: response.updated\ndata: {CREATED}\n\n");
    let script = format!(
        r#"[{{"chunks":{}}},{{"fail":"connection refused"}},{{"status":503,"body":"{{}}","headers":{{}}}},{{"status":429,"body":"","headers":{{"retry-after":"0"}}}},{{"chunks":{},"hold":true}}]"#,
        chunks(&["retry: 5\nid: 6\n\n"]),
        chunks(&[&event]),
    );
    let fake = Fake::new(&script);
    let events = resolve(take(&bff().events(JsValue::UNDEFINED), 1)).await;
    assert_eq!(at(&events, "0.type"), "response.updated");
    assert_eq!(at(&events, "0.id"), "7");
    assert_eq!(fake.calls(), 5);
    for i in 1..5 {
        assert_eq!(at(&fake.call(i), "headers.last-event-id"), "6", "call {i}");
    }
}

#[wasm_bindgen_test]
async fn the_signal_ends_the_iteration_without_an_error() {
    let fake = Fake::new(r#"[{"chunks":[": keepalive\n\n"],"hold":true}]"#);
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &abort_after(50)).unwrap();
    let events = resolve(take(&bff().events(opts.into()), 10)).await;
    assert_eq!(js_sys::Array::from(&events).length(), 0);
    assert_eq!(fake.calls(), 1);
    assert_eq!(fake.signal_aborted(0), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn answers_that_cannot_become_a_stream_reject_the_iteration() {
    let cases = [
        (
            r#"{"status":404,"body":"{\"error\":\"Not found\"}","headers":{"content-type":"application/json"}}"#,
            "not_found",
            "Not found",
        ),
        (
            r#"{"status":200,"body":"{}","headers":{"content-type":"application/json"}}"#,
            "decode",
            "is not an event stream",
        ),
        (
            r#"{"chunks":["id: 3\nevent: response.created\ndata: {not json\n\n"],"hold":true}"#,
            "decode",
            "event \"3\" (response.created) is not the documented JSON",
        ),
        (
            r#"{"chunks":["event: response.created\ndata: {\"event\":\"response.created\",\"botId\":[1]}\n\n"],"hold":true}"#,
            "decode",
            "botId must be a string, got an array",
        ),
    ];
    for (step, kind, says) in cases {
        let fake = Fake::new(&format!("[{step}]"));
        let error = reject(take(&bff().events(JsValue::UNDEFINED), 1)).await;
        assert_eq!(field(&error, "kind"), kind, "{step}");
        let message = field(&error, "message").as_string().unwrap_or_default();
        assert!(message.contains(says), "{step}: {message}");
        assert_eq!(fake.calls(), 1, "{step}: not retried");
    }
    let _fake = Fake::new(r#"[{"fail":"must not be called"}]"#);
    let error = reject(take(&bff().events(json(r#"{"signal": {}}"#)), 1)).await;
    assert_eq!(field(&error, "kind"), "invalid_request");
    assert_eq!(_fake.calls(), 0, "bad options send nothing");
}
