//! Who may read `/metrics`, and where: by default anyone who reaches the
//! BFF, on its own address (as before); with a [`MetricsToken`] only
//! requests with `Authorization: Bearer TOKEN`; with a [`MetricsListener`]
//! only on that address (a port the firewall keeps internal), and no longer
//! on the main one. The numbers reveal traffic, not secrets (the key never
//! reaches them), but a production deployment should use either.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use subtle::ConstantTimeEq;

use super::{Metrics, CONTENT_TYPE};

/// The bearer token `/metrics` asks for (`--metrics-token-file`,
/// `CONFERBOT_METRICS_TOKEN`). Never printed; compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// Wraps `raw`, trimmed of surrounding whitespace; `None` when nothing is
    /// left or it holds characters a header cannot carry.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let raw = raw.into();
        let trimmed = raw.trim();
        let visible = trimmed.bytes().all(|b| b.is_ascii_graphic());
        (!trimmed.is_empty() && visible).then(|| Self(trimmed.to_owned()))
    }

    /// Whether `headers` carry `Authorization: Bearer <this token>`.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return false;
        };
        let value = value.as_bytes();
        let scheme = b"bearer ";
        let Some(given) = value
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .and_then(|_| value.get(scheme.len()..))
        else {
            return false;
        };
        given.ct_eq(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A socket bound for `/metrics` alone (`--metrics-listen`): bound at start,
/// so that its address (port 0 picks one) can be announced before serving.
#[derive(Debug, Clone)]
pub struct MetricsListener {
    listener: Arc<std::net::TcpListener>,
    addr: SocketAddr,
}

impl MetricsListener {
    /// Binds `addr`.
    pub fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener: Arc::new(listener),
            addr,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `/metrics` of `metrics` (behind `token` if any) on a task
    /// that runs until aborted: scrapes are short, nothing to drain.
    pub(crate) fn spawn(
        &self,
        metrics: Arc<Metrics>,
        token: Option<MetricsToken>,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let listener = tokio::net::TcpListener::from_std(self.listener.try_clone()?)?;
        let app: Router = routes(metrics, token);
        Ok(tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(%err, "the /metrics listener stopped");
            }
        }))
    }
}

/// `GET /metrics`, behind `token` when there is one.
pub(crate) fn routes<S>(metrics: Arc<Metrics>, token: Option<MetricsToken>) -> Router<S> {
    Router::new()
        .route("/metrics", get(exposition))
        .with_state((metrics, token.map(Arc::new)))
}

type Access = (Arc<Metrics>, Option<Arc<MetricsToken>>);

async fn exposition(State((metrics, token)): State<Access>, headers: HeaderMap) -> Response {
    if token.is_some_and(|token| !token.admits(&headers)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "/metrics needs Authorization: Bearer TOKEN\n",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use tower::ServiceExt;

    use super::*;

    async fn status(app: &Router, authorization: Option<&str>) -> u16 {
        let mut request = Request::get("/metrics");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let request = request.body(Body::empty()).unwrap();
        app.clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn a_token_admits_only_its_bearer() {
        let token = MetricsToken::new(" s3cret-token\n").unwrap();
        let app: Router = routes(Arc::new(Metrics::default()), Some(token));
        assert_eq!(status(&app, None).await, 401);
        assert_eq!(status(&app, Some("Bearer wrong")).await, 401);
        assert_eq!(status(&app, Some("Bearer s3cret-toke")).await, 401);
        assert_eq!(status(&app, Some("Basic s3cret-token")).await, 401);
        assert_eq!(status(&app, Some("Bearer s3cret-token")).await, 200);
        assert_eq!(status(&app, Some("bearer s3cret-token")).await, 200);
        let open: Router = routes(Arc::new(Metrics::default()), None);
        assert_eq!(status(&open, None).await, 200);
    }

    #[test]
    fn tokens_are_never_printed_and_must_fit_a_header() {
        let token = MetricsToken::new("abc").unwrap();
        assert_eq!(format!("{token:?}"), "[redacted]");
        assert!(MetricsToken::new("  ").is_none());
        assert!(MetricsToken::new("a b").is_none());
        assert!(MetricsToken::new("a\u{7f}").is_none());
    }
}
