//! `/metrics` in the Prometheus text format (0.0.4), on `prometheus-client`:
//! the Prometheus project's Rust client keeps the registry, the atomics and
//! the encoding (escaping, `_total` suffixes, Go's float format for `le`).
//!
//! Labels are operation names from the endpoint table (`listChatbots`) or
//! `unmatched`, statuses, the documented webhook events, the policy's cache
//! results and rejection reasons: never raw paths or client input, so an
//! attacker cannot grow the series set.
//!
//! - `access`: who may read it ([`access::MetricsToken`]) and where it is
//!   served ([`access::MetricsListener`]).

pub(crate) mod access;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use conferbot_policy::headers::CacheStatus;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Label of requests that matched no operation.
pub(crate) const UNMATCHED: &str = "unmatched";

/// The `Content-Type` of the exposition.
pub(crate) const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// `route` (an operation name or `unmatched`) and `status`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: &'static str,
    status: u16,
}

/// How a GET was served.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheResult {
    result: &'static str,
}

/// A webhook event (one of the documented names).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Event {
    event: String,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

/// Every number `/metrics` shows.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    /// `conferbot_bff_redis_up` alone, shown once Redis is configured.
    redis_registry: Registry,
    redis_configured: AtomicBool,
    requests: Family<RouteStatus, Counter>,
    upstream_calls: Family<RouteStatus, Counter>,
    cache: Family<CacheResult, Counter>,
    queue_refused: Counter,
    queue_wait: Histogram,
    upstream_latency: Histogram,
    shared_state_refused: Counter,
    webhooks_received: Counter,
    webhooks_accepted: Family<Event, Counter>,
    webhooks_rejected: Family<Reason, Counter>,
    webhooks_duplicate: Counter,
    sse_clients: Gauge,
    sse_events_sent: Counter,
    redis_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let histogram = || Histogram::new(BUCKETS);
        let metrics = Self {
            registry: Registry::with_prefix("conferbot_bff"),
            redis_registry: Registry::with_prefix("conferbot_bff"),
            redis_configured: AtomicBool::new(false),
            requests: Family::default(),
            upstream_calls: Family::default(),
            cache: Family::default(),
            queue_refused: Counter::default(),
            queue_wait: histogram(),
            upstream_latency: histogram(),
            shared_state_refused: Counter::default(),
            webhooks_received: Counter::default(),
            webhooks_accepted: Family::default(),
            webhooks_rejected: Family::default(),
            webhooks_duplicate: Counter::default(),
            sse_clients: Gauge::default(),
            sse_events_sent: Counter::default(),
            redis_up: Gauge::default(),
        };
        // Every cache result is shown from the start, at 0.
        for status in CacheStatus::ALL {
            let _ = metrics.cache.get_or_create(&CacheResult {
                result: status.as_str(),
            });
        }
        metrics.registered()
    }
}

impl Metrics {
    /// Registers every metric (the registry keeps clones: they share the atomics).
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "requests",
            "Requests under the mount, by operation and answered status",
            self.requests.clone(),
        );
        r.register(
            "upstream_calls",
            "Calls made to the upstream API, by operation and its status (0: no answer)",
            self.upstream_calls.clone(),
        );
        r.register(
            "cache",
            "GET requests by how they were served",
            self.cache.clone(),
        );
        r.register(
            "queue_refused",
            "Requests refused because the rate queue was too long",
            self.queue_refused.clone(),
        );
        r.register_with_unit(
            "queue_wait",
            "Time requests waited for the upstream rate window",
            Unit::Seconds,
            self.queue_wait.clone(),
        );
        r.register_with_unit(
            "upstream_latency",
            "Latency of upstream calls",
            Unit::Seconds,
            self.upstream_latency.clone(),
        );
        r.register(
            "webhooks_received",
            "Webhook deliveries received",
            self.webhooks_received.clone(),
        );
        r.register(
            "webhooks_accepted",
            "Webhook deliveries accepted, by event",
            self.webhooks_accepted.clone(),
        );
        r.register(
            "webhooks_rejected",
            "Webhook deliveries refused, by reason",
            self.webhooks_rejected.clone(),
        );
        r.register(
            "webhooks_duplicate",
            "Webhook retries of deliveries already accepted (answered 200, not re-sent)",
            self.webhooks_duplicate.clone(),
        );
        r.register("sse_clients", "SSE streams open", self.sse_clients.clone());
        r.register(
            "sse_events_sent",
            "Events sent on SSE streams",
            self.sse_events_sent.clone(),
        );
        r.register(
            "shared_state_refused",
            "Requests refused because Redis was unreachable",
            self.shared_state_refused.clone(),
        );
        self.redis_registry.register(
            "redis_up",
            "Whether the shared state (Redis) answers",
            self.redis_up.clone(),
        );
        self
    }

    /// A request answered with `status`, by route label.
    pub(crate) fn request(&self, route: &'static str, status: u16) {
        self.requests
            .get_or_create(&RouteStatus { route, status })
            .inc();
    }

    /// An upstream call and its status (`0` when no answer came).
    pub(crate) fn upstream_call(&self, route: &'static str, status: u16, latency: Duration) {
        self.upstream_calls
            .get_or_create(&RouteStatus { route, status })
            .inc();
        self.upstream_latency.observe(latency.as_secs_f64());
    }

    /// How a GET was served.
    pub(crate) fn cache(&self, status: CacheStatus) {
        self.cache
            .get_or_create(&CacheResult {
                result: status.as_str(),
            })
            .inc();
    }

    /// Time a request spent queued for the rate window.
    pub(crate) fn queue_wait(&self, waited: Duration) {
        self.queue_wait.observe(waited.as_secs_f64());
    }

    /// A request the queue refused (answered 429 by the BFF).
    pub(crate) fn queue_refused(&self) {
        self.queue_refused.inc();
    }

    /// A request refused because the shared state (Redis) was unreachable.
    pub(crate) fn shared_state_refused(&self) {
        self.shared_state_refused.inc();
    }

    /// A webhook delivery arrived.
    pub(crate) fn webhook_received(&self) {
        self.webhooks_received.inc();
    }

    /// A delivery of `event` (a documented event name) was accepted.
    pub(crate) fn webhook_accepted(&self, event: &str) {
        self.webhooks_accepted
            .get_or_create(&Event {
                event: event.to_owned(),
            })
            .inc();
    }

    /// A delivery was refused, for `reason`.
    pub(crate) fn webhook_rejected(&self, reason: &'static str) {
        self.webhooks_rejected
            .get_or_create(&Reason { reason })
            .inc();
    }

    /// A delivery was a retry of one already accepted.
    pub(crate) fn webhook_duplicate(&self) {
        self.webhooks_duplicate.inc();
    }

    /// An SSE stream opened (`+1`) or closed (`-1`).
    pub(crate) fn sse_clients(&self, delta: i64) {
        self.sse_clients.inc_by(delta);
    }

    /// An event was sent on an SSE stream.
    pub(crate) fn sse_event_sent(&self) {
        self.sse_events_sent.inc();
    }

    /// Whether Redis answers (only shown once Redis is configured).
    pub(crate) fn set_redis_up(&self, up: bool) {
        self.redis_up.set(i64::from(up));
        self.redis_configured.store(true, Ordering::Relaxed);
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; the encoder's errors are `fmt::Error`.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        if self.redis_configured.load(Ordering::Relaxed) {
            let _ = prometheus_text::encode(&mut out, &self.redis_registry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("listChatbots", 200);
        m.request("listChatbots", 200);
        m.request(UNMATCHED, 404);
        m.upstream_call("listChatbots", 200, Duration::from_millis(30));
        m.cache(CacheStatus::Miss);
        m.cache(CacheStatus::Coalesced);
        m.queue_wait(Duration::from_millis(1_500));
        let text = m.render();
        for line in [
            "# TYPE conferbot_bff_requests_total counter",
            "conferbot_bff_requests_total{route=\"listChatbots\",status=\"200\"} 2",
            "conferbot_bff_requests_total{route=\"unmatched\",status=\"404\"} 1",
            "conferbot_bff_upstream_calls_total{route=\"listChatbots\",status=\"200\"} 1",
            "conferbot_bff_cache_total{result=\"hit\"} 0",
            "conferbot_bff_cache_total{result=\"coalesced\"} 1",
            "# TYPE conferbot_bff_queue_wait_seconds histogram",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"1\"} 0",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"2.5\"} 1",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"+Inf\"} 1",
            "conferbot_bff_queue_wait_seconds_count 1",
            "conferbot_bff_upstream_latency_seconds_bucket{le=\"0.05\"} 1",
            "conferbot_bff_upstream_latency_seconds_sum 0.03",
            "conferbot_bff_webhooks_received_total 0",
            "conferbot_bff_sse_clients 0",
            "conferbot_bff_queue_refused_total 0",
            "conferbot_bff_shared_state_refused_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("conferbot_bff_redis_up"), "{text}");
        m.webhook_received();
        m.webhook_accepted("response.created");
        m.webhook_rejected("signature");
        m.sse_clients(1);
        m.sse_event_sent();
        m.set_redis_up(false);
        let text = m.render();
        for line in [
            "conferbot_bff_webhooks_received_total 1",
            "conferbot_bff_webhooks_accepted_total{event=\"response.created\"} 1",
            "conferbot_bff_webhooks_rejected_total{reason=\"signature\"} 1",
            "conferbot_bff_sse_clients 1",
            "conferbot_bff_sse_events_sent_total 1",
            "# TYPE conferbot_bff_redis_up gauge",
            "conferbot_bff_redis_up 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        m.set_redis_up(true);
        assert!(m.render().lines().any(|l| l == "conferbot_bff_redis_up 1"));
    }
}
