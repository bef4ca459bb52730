//! The server: [`Bff`] builds the shared state and the router; [`serve`] runs it.

use std::future::Future;
use std::sync::Arc;

use axum::middleware;
use axum::routing::{any, get};
use axum::Router;
use conferbot_policy::client::TrustedProxies;
use conferbot_policy::host::AllowedHosts;
use conferbot_policy::settings::EffectiveLimits;
use conferbot_policy::ConfigError;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::BffConfig;
use crate::connection::slots::Slots;
use crate::connection::{self, descriptors, request_limits, App};
use crate::context::AppState;
use crate::forward::Forwarder;
use crate::forward_auth::ForwardAuth;
use crate::http::api_front::ApiFront;
use crate::http::events::FrameCache;
use crate::http::{access, events, health, hygiene, proxy, webhook};
use crate::metrics::{self, Metrics};
use crate::redis_state::RedisState;
use crate::state::Capabilities;
use crate::static_files;
use crate::upstream::Upstream;

/// A configured BFF, ready to give its app ([`Bff::app`]).
#[derive(Debug, Clone)]
pub struct Bff {
    config: BffConfig,
    limits: EffectiveLimits,
    /// The threads [`serve`] serves connections on (`--workers`, resolved).
    workers: usize,
    state: Arc<AppState>,
}

impl Bff {
    /// Validates `config` and builds the shared state (upstream client, rate
    /// window, cache, event log, metrics): in this process, or in Redis with
    /// `config.redis` (which needs a tokio runtime to start its connection).
    /// The connection and stream caps follow the process's descriptor limit
    /// now ([`descriptors::limit`]).
    pub fn new(config: BffConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let settings = &config.settings;
        let limits = settings.connections.effective(descriptors::limit())?;
        let metrics = Arc::new(Metrics::default());
        let workers = connection::workers::count(settings.connections.workers);
        let upstream = Upstream::new(
            &settings.upstream,
            &config.api_key,
            config.webhook_secret.as_ref(),
            settings.upstream_timeout,
            config.upstream_ca.as_ref(),
            workers,
        )?;
        let redis = match &config.redis {
            Some(url) => Some(
                RedisState::connect(url, config.api_key.shared_prefix(), Arc::clone(&metrics))
                    .map_err(ConfigError)?,
            ),
            None => None,
        };
        let Capabilities {
            window,
            cache,
            events,
            quota,
        } = Capabilities::new(settings, redis.as_ref());
        let forwarder = Forwarder::new(
            upstream,
            window,
            Arc::clone(&quota),
            settings.queue_wait,
            Arc::clone(&metrics),
        );
        let auth = match &settings.auth_url {
            Some(url) => Some(ForwardAuth::new(
                url,
                &settings.auth_user_header,
                settings.auth_timeout,
            )?),
            None => None,
        };
        let state = Arc::new(AppState {
            mount: settings.mount.clone(),
            allowed_origins: settings.normalized_origins(),
            hosts: AllowedHosts::new(&settings.allow_hosts, config.listen.map(|a| a.ip()))?,
            trusted_proxies: TrustedProxies::parse(&settings.trusted_proxies)?,
            auth,
            allow_local_webhooks: settings.allow_local_webhooks,
            cache,
            cache_events: settings.cache_events,
            quota,
            rate: settings.rate,
            forwarder: Arc::new(forwarder),
            metrics,
            events: Arc::new(events),
            webhook_secret: config.webhook_secret.clone(),
            webhook_tolerance: settings.webhook_tolerance,
            sse_heartbeat: settings.sse_heartbeat,
            sse_retry: settings.sse_retry,
            closing: watch::Sender::new(false),
            sse_frames: Arc::new(FrameCache::new(workers)),
            sse_slots: Slots::new(
                limits.sse_streams,
                settings.connections.max_sse_streams_per_ip,
            ),
            redis,
        });
        Ok(Self {
            config,
            limits,
            workers,
            state,
        })
    }

    /// Ends every SSE stream (and refuses new ones): call it when shutdown
    /// begins, or graceful shutdown waits for the streams forever.
    pub fn close_streams(&self) {
        self.state.closing.send_replace(true);
    }

    /// The shared state (for tests of the parts that take it).
    #[cfg(test)]
    pub(crate) fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// The connection and stream caps this BFF honours (the flags, within
    /// the descriptor limit).
    pub fn limits(&self) -> EffectiveLimits {
        self.limits
    }

    /// The whole app: the API under the mount, `/healthz`, `/metrics`
    /// (unless it has a listener of its own), and the static directories
    /// when configured, behind the request limits (requests in flight,
    /// request and body timeouts). The paths are the policy's
    /// ([`conferbot_policy::route::Mounts`]). Every request's host is
    /// checked first, and its client identified; the API and the events go
    /// through the authorisation step (with `--auth-url`), outside the
    /// quota headers, so that a refused request learns nothing of the quota.
    ///
    /// The host check and the request limits wrap the router rather than
    /// being router layers: a router layer is boxed into every route and
    /// cloned with it for every request. For the same reason the API's
    /// requests skip the router when no layer sits between it and their
    /// handler (`ApiFront`).
    pub fn app(&self) -> impl App {
        let paths = self.config.settings.mounts();
        let mount = &paths.mount;
        let state = Arc::clone(&self.state);
        let mut api = Router::new()
            .route(&paths.events, any(events::stream))
            .route(mount, any(proxy::proxy))
            .route(&format!("{mount}/"), any(proxy::proxy))
            .route(&format!("{mount}/{{*rest}}"), any(proxy::proxy));
        // The handlers finish their own answers (quota headers, then the
        // hygiene: `quota::under_mount`): a router layer would box and clone
        // every route for every request. With `--auth-url`, the
        // authorisation's refusals are answers no handler made: the
        // hygiene layer outside it covers them (and changes nothing of the
        // handlers' answers, already kept to the allowlist).
        if state.auth.is_some() {
            api = api
                .layer(middleware::from_fn_with_state(
                    Arc::clone(&state),
                    access::authorize,
                ))
                .layer(middleware::from_fn(hygiene::retain_allowed));
        }
        let cors = hygiene::cors_layer(&self.config.settings.allow_origins);
        // Layers between the router and the API's handler: then its requests
        // are routed, else they skip the router (`ApiFront`).
        let layered = state.auth.is_some() || cors.is_some();
        if let Some(cors) = cors {
            api = api.layer(cors);
        }
        let mut app = Router::new()
            .route("/healthz", get(health::healthz))
            .route(&paths.webhook, any(webhook::receive))
            .merge(api);
        if self.config.metrics_listener.is_none() {
            app = app.merge(self.metrics_routes());
        }
        let app = app.with_state(Arc::clone(&state));
        let app = static_files::attach(app, self.config.www.as_deref(), self.config.pkg.as_deref());
        let front = if layered {
            ApiFront::routed(Arc::clone(&state), app)
        } else {
            ApiFront::new(Arc::clone(&state), paths, app)
        };
        let admitted = access::Admit::new(state, front);
        request_limits::limit(admitted, &self.config.settings.connections)
    }

    /// `GET /metrics`, behind the token when one is configured.
    fn metrics_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        metrics::access::routes(
            Arc::clone(&self.state.metrics),
            self.config.metrics_token.clone(),
        )
    }

    /// Serves `/metrics` on its own listener when one is configured, until
    /// the task is aborted.
    fn spawn_metrics_listener(&self) -> std::io::Result<Option<tokio::task::JoinHandle<()>>> {
        let Some(listener) = &self.config.metrics_listener else {
            return Ok(None);
        };
        listener
            .spawn(
                Arc::clone(&self.state.metrics),
                self.config.metrics_token.clone(),
            )
            .map(Some)
    }
}

/// Serves `config` on `listener` (and `/metrics` on its own listener when
/// configured) until `shutdown` resolves, with every connection limit of
/// `config.settings.connections`; then the listener closes, event streams
/// end, requests in flight finish, and whatever is still open after
/// `--shutdown-timeout` is closed before this returns.
///
/// The accept loop runs on the caller's runtime; the connections are served
/// on threads of their own, `config.settings.connections.workers` of them
/// (by default two per CPU), which stop when this returns.
pub async fn serve(
    mut config: BffConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if config.listen.is_none() {
        config.listen = listener.local_addr().ok();
    }
    let bff = Bff::new(config).map_err(ServeError::Config)?;
    let metrics_listener = bff.spawn_metrics_listener().map_err(ServeError::Io)?;
    let limits = bff.limits;
    let workers = bff.workers;
    tracing::info!(
        connections = limits.connections,
        workers,
        sse_streams = limits.sse_streams,
        descriptors = descriptors::limit(),
        "connection limits"
    );
    // The connection layer gives every request its peer's address
    // (`ConnectInfo`), for the client's identity (fairness, spend caps).
    let app = bff.app();
    let settings = bff.config.settings.connections.clone();
    let served = connection::serve(
        listener,
        app,
        &settings,
        limits,
        workers,
        shutdown,
        move || {
            bff.close_streams();
        },
    )
    .await
    .map_err(ServeError::Io);
    if let Some(task) = metrics_listener {
        task.abort();
    }
    served
}

/// Why [`serve`] stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration was refused.
    #[error("configuration: {0}")]
    Config(ConfigError),
    /// The listener failed.
    #[error("server: {0}")]
    Io(std::io::Error),
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::header;
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
        config.redis = Some(crate::redis_state::RedisUrl::new("redis://127.0.0.1:1").unwrap());
        let err = Bff::new(config).unwrap_err();
        assert!(err.0.contains("tokio runtime"), "{err}");
    }

    #[tokio::test]
    async fn health_metrics_and_unknown_paths_need_no_upstream() {
        let app = bff().app();
        let get = |path: &str| {
            Request::get(path)
                .header(header::HOST, "127.0.0.1:8787")
                .body(Body::empty())
                .unwrap()
        };
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
            .clone()
            .oneshot(get("/api/conferbot/external/v1/chatbots/%2e%2e"))
            .await
            .unwrap();
        assert_eq!(hostile.status(), 400);
        assert_eq!(hostile.headers()["x-content-type-options"], "nosniff");
        let rebound = Request::get("/healthz")
            .header(header::HOST, "rebind.attacker.example:8787")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(rebound).await.unwrap().status(), 403);
    }
}
