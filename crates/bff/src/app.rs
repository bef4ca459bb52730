//! The server: shared state, the router, and `serve`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::cache::ReadCache;
use crate::cache_store::CacheStore;
use crate::config::{BffConfig, ConfigError};
use crate::csrf::CSRF_HEADER;
use crate::error::BffError;
use crate::events::sse::{self, SseSettings};
use crate::events::EventBus;
use crate::forward::Forwarder;
use crate::headers::{retain_allowed, X_CACHE};
use crate::limiter::SlidingWindow;
use crate::metrics::Metrics;
use crate::proxy::proxy;
use crate::redis_state::cache::RedisCache;
use crate::redis_state::events::RedisLog;
use crate::redis_state::window::RedisWindow;
use crate::redis_state::RedisState;
use crate::secret::WebhookSecret;
use crate::upstream::Upstream;
use crate::window_store::WindowStore;
use crate::{health, static_files, webhook};

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The mount, validated (`/api/conferbot`).
    pub(crate) mount: String,
    /// Origins allowed to write, lower case.
    pub(crate) allowed_origins: Vec<String>,
    /// GET cache and coalescing.
    pub(crate) cache: CacheStore,
    /// The upstream behind the rate window.
    pub(crate) forwarder: Arc<Forwarder>,
    /// Counters for `/metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// The event log and its fan-out to SSE streams.
    pub(crate) events: Arc<EventBus>,
    /// What webhook deliveries are verified with; `None`: refused.
    pub(crate) webhook_secret: Option<WebhookSecret>,
    /// How old a delivery may be.
    pub(crate) webhook_tolerance: Duration,
    /// SSE heartbeat and retry hint.
    pub(crate) sse: SseSettings,
    /// Becomes `true` when shutdown begins: SSE streams end, so that
    /// graceful shutdown does not wait for them forever.
    pub(crate) closing: watch::Sender<bool>,
    /// The shared state, with `--redis`.
    pub(crate) redis: Option<Arc<RedisState>>,
}

/// A configured BFF, ready to give its [`Router`].
#[derive(Debug, Clone)]
pub struct Bff {
    config: BffConfig,
    state: Arc<AppState>,
}

impl Bff {
    /// Validates `config` and builds the shared state (upstream client, rate
    /// window, cache, event log, metrics): in this process, or in Redis with
    /// `config.redis` (which needs a tokio runtime to start its connection).
    pub fn new(config: BffConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let metrics = Arc::new(Metrics::default());
        let upstream = Upstream::new(
            &config.upstream,
            config.api_key.clone(),
            config.upstream_timeout,
        )
        .map_err(|err| ConfigError(err.to_string()))?;
        let redis = match &config.redis {
            Some(url) => Some(
                RedisState::connect(url, &config.api_key, Arc::clone(&metrics))
                    .map_err(ConfigError)?,
            ),
            None => None,
        };
        let (window, cache, events) = match &redis {
            None => (
                WindowStore::Local(SlidingWindow::new(config.rate)),
                CacheStore::Local(ReadCache::new(config.cache_ttl)),
                EventBus::local(config.event_replay),
            ),
            Some(redis) => {
                // A leader may queue for its turn, then wait for the upstream.
                let lock_ttl = config.queue_wait + config.upstream_timeout + Duration::from_secs(5);
                let shared = RedisCache::new(Arc::clone(redis), config.cache_ttl, lock_ttl);
                (
                    WindowStore::Redis(RedisWindow::new(Arc::clone(redis), config.rate)),
                    CacheStore::Redis {
                        joined: ReadCache::new(Duration::ZERO),
                        shared: Arc::new(shared),
                    },
                    EventBus::redis(RedisLog::new(Arc::clone(redis), config.event_replay)),
                )
            }
        };
        let forwarder = Forwarder::new(upstream, window, config.queue_wait, Arc::clone(&metrics));
        let state = Arc::new(AppState {
            mount: config.mount.clone(),
            allowed_origins: config.normalized_origins(),
            cache,
            forwarder: Arc::new(forwarder),
            metrics,
            events: Arc::new(events),
            webhook_secret: config.webhook_secret.clone(),
            webhook_tolerance: config.webhook_tolerance,
            sse: SseSettings {
                heartbeat: config.sse_heartbeat,
                retry: config.sse_retry,
            },
            closing: watch::Sender::new(false),
            redis,
        });
        Ok(Self { config, state })
    }

    /// Ends every SSE stream (and refuses new ones): call it when shutdown
    /// begins, or graceful shutdown waits for the streams forever.
    pub fn close_streams(&self) {
        self.state.closing.send_replace(true);
    }

    /// The whole app: the API under the mount, `/healthz`, `/metrics`, and
    /// the static directories when configured.
    pub fn router(&self) -> Router {
        let mount = &self.config.mount;
        let mut api = Router::new()
            .route(&self.config.events_path(), any(events_route))
            .route(mount, any(proxy))
            .route(&format!("{mount}/"), any(proxy))
            .route(&format!("{mount}/{{*rest}}"), any(proxy))
            .layer(middleware::from_fn(retain_allowed));
        if let Some(cors) = cors_layer(&self.config.allow_origins) {
            api = api.layer(cors);
        }
        let metrics = Arc::clone(&self.state.metrics);
        let app = Router::new()
            .route("/healthz", get(health::healthz))
            .route(&self.config.webhook_path(), any(webhook_route))
            .route(
                "/metrics",
                get(move || async move { metrics_text(&metrics) }),
            )
            .merge(api)
            .with_state(Arc::clone(&self.state));
        static_files::attach(app, self.config.www.as_deref(), self.config.pkg.as_deref())
    }
}

/// Serves `config` on `listener` until `shutdown` resolves; requests in
/// flight then finish before this returns.
pub async fn serve(
    config: BffConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let bff = Bff::new(config).map_err(ServeError::Config)?;
    let app = bff.router();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            bff.close_streams();
        })
        .await
        .map_err(ServeError::Io)
}

/// Why [`serve`] stopped with an error.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration was refused.
    Config(ConfigError),
    /// The listener failed.
    Io(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(err) => write!(f, "configuration: {err}"),
            Self::Io(err) => write!(f, "server: {err}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// `GET {mount}/events`; other methods `405` in the API's format.
async fn events_route(state: State<Arc<AppState>>, request: Request) -> Response {
    if request.method() != Method::GET {
        return BffError::MethodNotAllowed(vec![conferbot::Method::Get]).into_response();
    }
    sse::events(state, request.headers().clone()).await
}

/// `POST` on the webhook path; other methods `405` in the API's format.
async fn webhook_route(state: State<Arc<AppState>>, request: Request) -> Response {
    if request.method() != Method::POST {
        return BffError::MethodNotAllowed(vec![conferbot::Method::Post]).into_response();
    }
    webhook::receive(state, request).await
}

fn metrics_text(metrics: &Metrics) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(),
    )
        .into_response()
}

/// The JSON `404` for paths outside every route (when no `--www` is served).
pub(crate) async fn not_found() -> Response {
    BffError::NotFound.into_response()
}

/// CORS for `--allow-origin`; none at all by default (same-origin only).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::HeaderName::from_static(CSRF_HEADER),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                header::HeaderName::from_static(X_CACHE),
            ]),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::secret::ApiKey;

    fn bff() -> Bff {
        Bff::new(BffConfig::new(ApiKey::new("sk-debug-canary").unwrap())).unwrap()
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let dump = format!("{:?}", bff());
        assert!(!dump.contains("sk-debug-canary"), "{dump}");
        assert!(dump.contains("[redacted]"), "{dump}");
    }

    #[test]
    fn redis_outside_a_runtime_is_refused_not_a_panic() {
        let mut config = BffConfig::new(ApiKey::new("k").unwrap());
        config.redis = Some(crate::RedisUrl::new("redis://127.0.0.1:1").unwrap());
        let err = Bff::new(config).unwrap_err();
        assert!(err.0.contains("tokio runtime"), "{err}");
    }

    #[tokio::test]
    async fn health_metrics_and_unknown_paths_need_no_upstream() {
        let app = bff().router();
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let health = app.clone().oneshot(get("/healthz")).await.unwrap();
        assert_eq!(health.status(), 200);
        let metrics = app.clone().oneshot(get("/metrics")).await.unwrap();
        assert!(metrics.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let unknown = app.clone().oneshot(get("/nope")).await.unwrap();
        assert_eq!(unknown.status(), 404);
        assert_eq!(unknown.headers()[header::CONTENT_TYPE], "application/json");
        let hostile = app
            .oneshot(get("/api/conferbot/external/v1/chatbots/%2e%2e"))
            .await
            .unwrap();
        assert_eq!(hostile.status(), 400);
        assert_eq!(hostile.headers()["x-content-type-options"], "nosniff");
    }
}
