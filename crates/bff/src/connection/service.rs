//! Each connection's hyper service: counts the request in flight (until its
//! answer's body is done), refuses heads the scanner found a bare LF in (or
//! lost track of), gives handlers the client's address
//! ([`ConnectInfo`], as `axum::serve` does), and closes the connection after
//! answers that leave the request body unread (`408`, `413`).

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Version};
use bytes::Bytes;
use conferbot_policy::BffError;
use futures_util::future::Either;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower::ServiceExt;

use super::head_scanner::{Framing, Verdict};
use super::state::{ConnState, InFlight};
use super::App;
use crate::http::respond;

/// The hyper service of one connection.
#[derive(Clone)]
pub(crate) struct ConnectionService<A> {
    app: A,
    conn: Arc<ConnState>,
}

impl<A: App> ConnectionService<A> {
    /// `app`, served on the connection `conn`.
    pub(crate) fn new(app: A, conn: Arc<ConnState>) -> Self {
        Self { app, conn }
    }
}

type Answer = Result<Response<TrackedBody>, Infallible>;

impl<A: App> hyper::service::Service<Request<Incoming>> for ConnectionService<A> {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Either<Ready<Answer>, Served<A>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let in_flight = self.conn.request_started();
        let http1 = request.version() < Version::HTTP_2;
        if http1 {
            // hyper's own framing of this request's body, so that the scanner
            // steps over exactly the bytes hyper will read as the body.
            let framing = match request.body().size_hint().exact() {
                Some(length) => Framing::Length(length),
                None => Framing::Chunked,
            };
            if let Some(refusal) = refusal(self.conn.verdict(framing)) {
                let mut response = respond::error(&refusal);
                close_after(&mut response);
                return Either::Left(ready(Ok(tracked(response, Some(in_flight)))));
            }
        }
        request.extensions_mut().insert(ConnectInfo(self.conn.peer));
        Either::Right(Served {
            answer: self.app.clone().oneshot(request.map(Body::new)),
            http1,
            in_flight: Some(in_flight),
        })
    }
}

pin_project! {
    /// The app's answer to one request, finished for its connection.
    ///
    /// A named future rather than a boxed one: a box would take the whole
    /// app's future, moved into it, for every request.
    pub(crate) struct Served<A: App> {
        #[pin]
        answer: Oneshot<A, Request<Body>>,
        http1: bool,
        in_flight: Option<InFlight>,
    }
}

impl<A: App> Future for Served<A> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let this = self.project();
        let mut response = match ready!(this.answer.poll(cx)) {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let body_unread = matches!(
            response.status(),
            StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
        );
        if *this.http1 && body_unread {
            close_after(&mut response);
        }
        // Taken once: hyper polls a finished future no more.
        Poll::Ready(Ok(tracked(response, this.in_flight.take())))
    }
}

/// The answer to a head the scanner did not pass, if it did not.
fn refusal(verdict: Verdict) -> Option<BffError> {
    match verdict {
        Verdict::Clean => None,
        Verdict::BareLf => Some(BffError::InvalidRequest(
            "every line of a request head must end in CRLF; this one has a bare LF".into(),
        )),
        Verdict::Unknown => Some(BffError::InvalidRequest(
            "this connection's requests could not be told apart; open a new connection".into(),
        )),
    }
}

/// `Connection: close`: hyper closes the connection after this answer.
fn close_after(response: &mut Response<Body>) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

fn tracked(response: Response<Body>, in_flight: Option<InFlight>) -> Response<TrackedBody> {
    response.map(|body| TrackedBody {
        body,
        _in_flight: in_flight,
    })
}

/// An answer's body that keeps its request in flight until it is done (an
/// event stream is in flight for as long as it is open).
#[derive(Debug)]
pub(crate) struct TrackedBody {
    body: Body,
    _in_flight: Option<InFlight>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
