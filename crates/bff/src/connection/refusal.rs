//! Connections that are not admitted still get an answer when it is cheap:
//! hyper reads their request head (for at most [`REFUSAL_READ_TIMEOUT`]) and
//! answers the refusal (`429` over an address's share, `503` at the cap) with
//! `Retry-After` and `Connection: close`. At most `refusals` of them are
//! answered at once, out of the descriptor reserve; past that, a refused
//! connection is closed at once, unanswered, so that refusing costs nothing
//! under a flood.

use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;

use axum::http::{header, HeaderValue, Request};
use conferbot_policy::settings::connections::REFUSAL_READ_TIMEOUT;
use conferbot_policy::BffError;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::http::respond;

/// Answers refused connections, a bounded number at a time.
#[derive(Debug)]
pub(crate) struct Refusals {
    budget: Arc<Semaphore>,
}

impl Refusals {
    /// At most `at_once` refusals answered at a time.
    pub(crate) fn new(at_once: usize) -> Self {
        Self {
            budget: Arc::new(Semaphore::new(at_once)),
        }
    }

    /// Answers `tcp` with `refusal` (on a task of `tasks`), or closes it now
    /// when the budget is spent.
    pub(crate) fn refuse(&self, tcp: TcpStream, refusal: BffError, tasks: &mut JoinSet<()>) {
        let Ok(permit) = Arc::clone(&self.budget).try_acquire_owned() else {
            return;
        };
        tasks.spawn(async move {
            let answer = move |_request: Request<Incoming>| {
                let mut response = respond::error(&refusal);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                ready(Ok::<_, Infallible>(response))
            };
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(REFUSAL_READ_TIMEOUT)
                .keep_alive(false)
                .max_buf_size(conferbot_policy::settings::connections::MIN_HEADER_BYTES);
            let serving = builder.serve_connection(TokioIo::new(tcp), service_fn(answer));
            // The head has its timeout; the answer is small, but a client
            // that never reads it must not hold the descriptor either.
            let _ = tokio::time::timeout(REFUSAL_READ_TIMEOUT * 2, serving).await;
            drop(permit);
        });
    }
}
