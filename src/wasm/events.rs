//! `for await (const event of client.events())`: the BFF's live events
//! (`GET {baseUrl}/events`, Server-Sent Events) as an async iterable.
//!
//! Read with `fetch` and a streaming body, which Node 20 (no `EventSource`)
//! and browsers both have. The bytes go through the core's [`SseParser`];
//! each event becomes a plain object (`decode::check_event`). A stream that
//! ends or breaks is reopened with `Last-Event-ID`, after the delays of the
//! core's [`Reconnect`] (the server's `retry:`, backoff on failed
//! connections). It stops, without an error, when the caller's signal aborts
//! or the iterator's `return()` is called (a `break` out of the loop).
//! Answers that can never become a stream (`404`, `401`, not
//! `text/event-stream`) reject the iteration with a `ConferbotError`.
//!
//! Written as a state machine that says which single I/O step comes next
//! ([`Stream::plan`]) and takes its outcome ([`Stream::settle`]), driven by a
//! JS loop with one `await` (`eventItems` in `js/calls.js`): every state
//! and what may follow it is in one `match`, no borrow of the state is held
//! across an `await`, and the module needs no Rust futures at all.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{RequestInit, Response};

use crate::error::{Error, ErrorKind};
use crate::live_event::ConferbotEvent;
use crate::protocol::bff::EVENTS_PATH;
use crate::reconnect::Reconnect;
use crate::sse::SseParser;

use super::call_options::CallOptions;
use super::calls::sleep;
use super::config::ClientConfig;
use super::decode;
use super::fetch::{checked_headers, failure, global_fetch, Attempt};
use super::js_error::to_js;

#[wasm_bindgen(module = "/src/wasm/js/calls.js")]
extern "C" {
    #[wasm_bindgen(js_name = eventItems)]
    fn event_items(stream: EventStream) -> JsValue;
    #[wasm_bindgen(js_name = bodyReader)]
    fn body_reader(response: &Response) -> JsValue;
    #[wasm_bindgen(js_name = readChunk)]
    fn read_chunk(reader: &JsValue) -> Promise;
}

/// One subscription to the live events; JS drives it through `eventItems` in `js/calls.js`.
#[wasm_bindgen(skip_typescript)]
pub struct EventStream {
    start: Result<Rc<Stream>, Error>,
}

#[wasm_bindgen]
impl EventStream {
    /// The next step of `next()`: an event, `undefined` once the stream is
    /// closed, or a promise to await and hand to [`Self::settle`]; throws the
    /// `ConferbotError` that ends the iteration.
    #[wasm_bindgen(skip_typescript)]
    pub fn plan(&self) -> Result<JsValue, JsValue> {
        let stream = self.start.as_ref().map_err(to_js)?;
        match stream.plan() {
            Step::Answer(answer) => answer.map_err(|e| to_js(&e)),
            Step::Await(promise) => Ok(promise.into()),
        }
    }

    /// The outcome of the promise [`Self::plan`] asked to await: its value
    /// when `fulfilled`, else its rejection.
    #[wasm_bindgen(skip_typescript)]
    pub fn settle(&self, fulfilled: bool, value: JsValue) {
        if let Ok(stream) = &self.start {
            stream.settle(if fulfilled { Ok(value) } else { Err(value) });
        }
    }

    /// Ends the subscription now: the connection is cut, a waiting `next()`
    /// resolves `undefined`.
    #[wasm_bindgen(skip_typescript)]
    pub fn close(&self) {
        if let Ok(stream) = &self.start {
            stream.close();
        }
    }
}

/// An `AsyncIterable` of the live events at `config`'s BFF; bad `opts`
/// reject the first step, and nothing is sent.
pub(crate) fn subscribe(config: &Rc<ClientConfig>, opts: &JsValue) -> JsValue {
    let start = CallOptions::read(opts, config).map(|call| {
        Rc::new(Stream {
            config: config.clone(),
            url: format!("{}{EVENTS_PATH}", config.base_url),
            timeout_ms: call.timeout_ms,
            lifetime: Attempt::new(call.signal, None),
            state: RefCell::new(State::default()),
        })
    });
    event_items(EventStream { start })
}

/// A subscription's connections, one after the other.
struct Stream {
    config: Rc<ClientConfig>,
    url: String,
    /// Time a connection may take to answer (its headers, not the stream).
    timeout_ms: u32,
    /// Fires when the caller's signal does, or on `close()`: it cuts the
    /// open connection and any wait between connections.
    lifetime: Attempt,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    parser: SseParser,
    reconnect: Reconnect,
    phase: Phase,
    closed: bool,
}

/// Where the subscription is, and what its pending I/O step is waiting for.
#[derive(Default)]
enum Phase {
    /// Nothing tried yet: connect at once.
    #[default]
    Start,
    /// Between connections: wait as [`Reconnect`] says, then connect.
    Dropped,
    /// Waiting out the delay before the next connection.
    Waiting,
    /// The delay is over: connect.
    Due,
    /// `fetch` was called; its answer is awaited.
    Connecting(Attempt),
    /// An error status arrived; its body is being read.
    Refused(Attempt, Response),
    /// A stream is open; its next chunk is awaited.
    Open(Attempt, JsValue),
    /// It cannot go on: the iteration rejects with this, once.
    Failed(Error),
}

/// What to do next.
enum Step {
    /// Answer `next()` with this (an event, `undefined` when closed, an error).
    Answer(Result<JsValue, Error>),
    /// Await this promise, then [`Stream::settle`] its outcome.
    Await(Promise),
}

impl Stream {
    fn closed(&self) -> bool {
        self.state.borrow().closed || self.lifetime.caller_aborted()
    }

    fn close(&self) {
        self.state.borrow_mut().closed = true;
        self.lifetime.abort();
        self.hang_up();
    }

    /// Drops the connection, if one is open or opening.
    fn hang_up(&self) {
        let phase = std::mem::take(&mut self.state.borrow_mut().phase);
        match phase {
            Phase::Connecting(connection)
            | Phase::Refused(connection, ..)
            | Phase::Open(connection, _) => {
                connection.abort();
                connection.dispose();
                self.state.borrow_mut().phase = Phase::Dropped;
            }
            other => self.state.borrow_mut().phase = other,
        }
    }

    /// The next step: an answer for `next()`, or the I/O to wait for.
    fn plan(&self) -> Step {
        if self.closed() {
            self.hang_up();
            return Step::Answer(Ok(JsValue::UNDEFINED));
        }
        let mut state = self.state.borrow_mut();
        if let Some(event) = state.parser.next_event() {
            return Step::Answer(decode::check_event(&ConferbotEvent::from(event)));
        }
        match std::mem::take(&mut state.phase) {
            Phase::Dropped => {
                let ms = state.reconnect.delay_ms(js_sys::Math::random());
                state.phase = Phase::Waiting;
                Step::Await(sleep(ms as f64, Some(self.lifetime.signal())))
            }
            Phase::Start | Phase::Due => match self.request(&state.parser) {
                Ok((init, connection)) => {
                    let fetching = global_fetch(&self.url, &init);
                    state.phase = Phase::Connecting(connection);
                    Step::Await(fetching)
                }
                Err(error) => Step::Answer(Err(error)),
            },
            Phase::Refused(connection, response) => {
                let reading = response.text().unwrap_or_else(|e| Promise::reject(&e));
                state.phase = Phase::Refused(connection, response);
                Step::Await(reading)
            }
            Phase::Open(connection, reader) => {
                let reading = read_chunk(&reader);
                state.phase = Phase::Open(connection, reader);
                Step::Await(reading)
            }
            Phase::Failed(error) => {
                state.closed = true;
                Step::Answer(Err(error))
            }
            // Settled before every plan; kept as they are, to be safe.
            phase @ (Phase::Waiting | Phase::Connecting(_)) => {
                state.phase = phase;
                Step::Answer(Ok(JsValue::UNDEFINED))
            }
        }
    }

    /// Takes the outcome of the step [`Self::plan`] asked for.
    fn settle(&self, outcome: Result<JsValue, JsValue>) {
        if self.closed() {
            return;
        }
        let mut state = self.state.borrow_mut();
        state.phase = match (std::mem::take(&mut state.phase), outcome) {
            (Phase::Waiting, Ok(done)) if done.as_bool() == Some(true) => Phase::Due,
            (Phase::Waiting, _) => Phase::Dropped,
            (Phase::Connecting(connection), Ok(response)) => match self.opened(response) {
                Opened::Stream(reader) => {
                    connection.connected();
                    state.parser.reconnected();
                    state.reconnect.connected();
                    Phase::Open(connection, reader)
                }
                Opened::Refused(response) => Phase::Refused(connection, response),
                Opened::Never(error) => {
                    // Its body is of no use: stop it coming.
                    connection.abort();
                    connection.dispose();
                    Phase::Failed(error)
                }
            },
            (Phase::Connecting(connection), Err(reason)) => {
                let error = failure(
                    &connection,
                    self.timeout_ms,
                    &reason,
                    "could not reach the server",
                );
                connection.dispose();
                retry_or_fail(&mut state.reconnect, error)
            }
            (Phase::Refused(connection, response), body) => {
                connection.dispose();
                let body = body.unwrap_or_else(|_| JsValue::from_str(""));
                let retry_after = header(&response, "retry-after");
                let error = Error::from_error_body(
                    response.status(),
                    decode::error_body(&body),
                    retry_after.as_deref(),
                );
                retry_or_fail(&mut state.reconnect, error)
            }
            (Phase::Open(connection, reader), Ok(chunk)) => match chunk.dyn_into::<Uint8Array>() {
                Ok(bytes) => {
                    state.parser.feed(&bytes.to_vec());
                    if let Some(ms) = state.parser.retry_ms() {
                        state.reconnect.set_retry_ms(ms);
                    }
                    Phase::Open(connection, reader)
                }
                // The stream ended.
                Err(_) => {
                    connection.dispose();
                    Phase::Dropped
                }
            },
            // The stream broke.
            (Phase::Open(connection, _), Err(_)) => {
                connection.dispose();
                Phase::Dropped
            }
            (phase, _) => phase,
        };
    }

    /// The request of the next connection, with `Last-Event-ID` once the
    /// server has set an id.
    fn request(&self, parser: &SseParser) -> Result<(RequestInit, Attempt), Error> {
        let headers = checked_headers(&self.config.headers)?;
        let mut protocol = vec![("accept", "text/event-stream")];
        if !parser.last_event_id().is_empty() {
            protocol.push(("last-event-id", parser.last_event_id()));
        }
        for (name, value) in protocol {
            headers
                .set(name, value)
                .map_err(|_| Error::invalid_request("fetch refused a protocol header"))?;
        }
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers.into());
        let connection = Attempt::new(Some(self.lifetime.signal()), Some(self.timeout_ms));
        init.set_signal(Some(&connection.signal()));
        Ok((init, connection))
    }

    /// What a connection's answer is.
    fn opened(&self, response: JsValue) -> Opened {
        let Ok(response) = response.dyn_into::<Response>() else {
            return Opened::Never(Error::new(
                ErrorKind::Network,
                "fetch resolved to something that is not a Response",
            ));
        };
        if !(200..300).contains(&response.status()) {
            return Opened::Refused(response);
        }
        let content_type = header(&response, "content-type").unwrap_or_default();
        let reader = body_reader(&response);
        if content_type.starts_with("text/event-stream") && !reader.is_null() {
            return Opened::Stream(reader);
        }
        let mut message = String::from("the answer of ");
        message.push_str(&self.url);
        message.push_str(" is not an event stream (content-type ");
        message.push_str(&crate::text::quote(&content_type));
        message.push_str("): is baseUrl a conferbot BFF?");
        Opened::Never(Error::decode(message))
    }
}

/// What a connection's answer is.
enum Opened {
    /// An event stream: the reader of its body.
    Stream(JsValue),
    /// An error status: its body says why.
    Refused(Response),
    /// Something that can never become a stream.
    Never(Error),
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// A refused or failed connection: tried again later when that may help
/// (network, timeout, `429`, `5xx`), else the end of the iteration.
fn retry_or_fail(reconnect: &mut Reconnect, error: Error) -> Phase {
    match error.kind {
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::RateLimited | ErrorKind::Server => {
            reconnect.failed(error.retry_after);
            Phase::Dropped
        }
        _ => Phase::Failed(error),
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.hang_up();
        self.lifetime.dispose();
    }
}
