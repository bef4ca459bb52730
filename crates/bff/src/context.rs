//! What every request handler shares: the policy's inputs from the
//! configuration, and the state by capability.

use std::sync::Arc;
use std::time::Duration;

use conferbot::RateSpec;
use conferbot_policy::client::TrustedProxies;
use conferbot_policy::host::AllowedHosts;
use conferbot_policy::settings::CacheEvents;
use tokio::sync::watch;

use crate::connection::slots::Slots;
use crate::forward::Forwarder;
use crate::forward_auth::ForwardAuth;
use crate::http::events::FrameCache;
use crate::metrics::Metrics;
use crate::redis_state::RedisState;
use crate::secret::WebhookSecret;
use crate::state::cache::CacheStore;
use crate::state::events::EventBus;
use crate::state::quota::QuotaStore;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The mount, validated (`/api/conferbot`).
    pub(crate) mount: String,
    /// Origins allowed to write, lower case.
    pub(crate) allowed_origins: Vec<String>,
    /// Hosts this server answers for (`--allow-host` and the defaults).
    pub(crate) hosts: AllowedHosts,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: TrustedProxies,
    /// The forward-auth step, with `--auth-url`.
    pub(crate) auth: Option<ForwardAuth>,
    /// Accept `http://` and loopback webhook URLs (`--allow-local-webhooks`).
    pub(crate) allow_local_webhooks: bool,
    /// GET cache and coalescing.
    pub(crate) cache: CacheStore,
    /// What a webhook delivery does to the cache.
    pub(crate) cache_events: CacheEvents,
    /// The month's quota as known.
    pub(crate) quota: Arc<QuotaStore>,
    /// The upstream's rate (for the quota headers).
    pub(crate) rate: RateSpec,
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
    /// Interval of `: keepalive` comments on idle event streams.
    pub(crate) sse_heartbeat: Duration,
    /// The `retry:` hint of event streams.
    pub(crate) sse_retry: Duration,
    /// Becomes `true` when shutdown begins: SSE streams end, so that
    /// graceful shutdown does not wait for them forever.
    pub(crate) closing: watch::Sender<bool>,
    /// Event streams open, capped in all and per client address.
    pub(crate) sse_slots: Arc<Slots>,
    /// The latest event's frame, shared by every stream.
    pub(crate) sse_frames: Arc<FrameCache>,
    /// The shared state, with `--redis`.
    pub(crate) redis: Option<Arc<RedisState>>,
}
