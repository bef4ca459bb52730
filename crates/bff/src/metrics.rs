//! `/metrics` in the Prometheus text format, written by hand from atomics and
//! small maps: the handful of series here do not justify a metrics framework.
//!
//! Labels are operation names from the endpoint table (`listChatbots`) or
//! `unmatched`, never raw paths, so an attacker cannot grow the series set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use conferbot_policy::headers::CacheStatus;

/// Label of requests that matched no operation.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub(crate) fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| secs <= bound) {
            if let Some(bucket) = self.buckets.get(i) {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Every number `/metrics` shows.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    upstream_calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    cache: Mutex<BTreeMap<&'static str, u64>>,
    queue_refused: AtomicU64,
    queue_wait: Histogram,
    upstream_latency: Histogram,
    shared_state_refused: AtomicU64,
    webhooks_received: AtomicU64,
    webhooks_accepted: Mutex<BTreeMap<String, u64>>,
    webhooks_rejected: Mutex<BTreeMap<&'static str, u64>>,
    webhooks_duplicate: AtomicU64,
    sse_clients: AtomicI64,
    sse_events_sent: AtomicU64,
    /// 0: no Redis configured; 1: down; 2: up.
    redis_up: AtomicU8,
}

impl Metrics {
    /// A request answered with `status`, by route label.
    pub(crate) fn request(&self, route: &'static str, status: u16) {
        bump(&self.requests, (route, status));
    }

    /// An upstream call and its status (`0` when no answer came).
    pub(crate) fn upstream_call(&self, route: &'static str, status: u16, latency: Duration) {
        bump(&self.upstream_calls, (route, status));
        self.upstream_latency.observe(latency);
    }

    /// How a GET was served.
    pub(crate) fn cache(&self, status: CacheStatus) {
        bump(&self.cache, status.as_str());
    }

    /// Time a request spent queued for the rate window.
    pub(crate) fn queue_wait(&self, waited: Duration) {
        self.queue_wait.observe(waited);
    }

    /// A request the queue refused (answered 429 by the BFF).
    pub(crate) fn queue_refused(&self) {
        self.queue_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A request refused because the shared state (Redis) was unreachable.
    pub(crate) fn shared_state_refused(&self) {
        self.shared_state_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A webhook delivery arrived.
    pub(crate) fn webhook_received(&self) {
        self.webhooks_received.fetch_add(1, Ordering::Relaxed);
    }

    /// A delivery of `event` (a documented event name) was accepted.
    pub(crate) fn webhook_accepted(&self, event: &str) {
        if let Ok(mut map) = self.webhooks_accepted.lock() {
            *map.entry(event.to_owned()).or_insert(0) += 1;
        }
    }

    /// A delivery was refused, for `reason`.
    pub(crate) fn webhook_rejected(&self, reason: &'static str) {
        bump(&self.webhooks_rejected, reason);
    }

    /// A delivery was a retry of one already accepted.
    pub(crate) fn webhook_duplicate(&self) {
        self.webhooks_duplicate.fetch_add(1, Ordering::Relaxed);
    }

    /// An SSE stream opened (`+1`) or closed (`-1`).
    pub(crate) fn sse_clients(&self, delta: i64) {
        self.sse_clients.fetch_add(delta, Ordering::Relaxed);
    }

    /// An event was sent on an SSE stream.
    pub(crate) fn sse_event_sent(&self) {
        self.sse_events_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether Redis answers (only shown once Redis is configured).
    pub(crate) fn set_redis_up(&self, up: bool) {
        self.redis_up
            .store(if up { 2 } else { 1 }, Ordering::Relaxed);
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        render_pairs(
            &mut out,
            "conferbot_bff_requests_total",
            "Requests under the mount, by operation and answered status.",
            &self.requests,
        );
        render_pairs(
            &mut out,
            "conferbot_bff_upstream_calls_total",
            "Calls made to the upstream API, by operation and its status (0: no answer).",
            &self.upstream_calls,
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_cache_total GET requests by how they were served.\n# TYPE conferbot_bff_cache_total counter"
        );
        let cache = self.cache.lock().map(|m| m.clone()).unwrap_or_default();
        for result in CacheStatus::ALL.map(CacheStatus::as_str) {
            let n = cache.get(result).copied().unwrap_or(0);
            let _ = writeln!(out, "conferbot_bff_cache_total{{result=\"{result}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_queue_refused_total Requests refused because the rate queue was too long.\n# TYPE conferbot_bff_queue_refused_total counter\nconferbot_bff_queue_refused_total {}",
            self.queue_refused.load(Ordering::Relaxed)
        );
        self.queue_wait.render(
            &mut out,
            "conferbot_bff_queue_wait_seconds",
            "Time requests waited for the upstream rate window.",
        );
        self.upstream_latency.render(
            &mut out,
            "conferbot_bff_upstream_latency_seconds",
            "Latency of upstream calls.",
        );
        self.render_live(&mut out);
        out
    }

    /// Webhooks, SSE and Redis.
    fn render_live(&self, out: &mut String) {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_webhooks_received_total Webhook deliveries received.\n# TYPE conferbot_bff_webhooks_received_total counter\nconferbot_bff_webhooks_received_total {}",
            load(&self.webhooks_received)
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_webhooks_accepted_total Webhook deliveries accepted, by event.\n# TYPE conferbot_bff_webhooks_accepted_total counter"
        );
        let accepted = self
            .webhooks_accepted
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        for (event, n) in accepted {
            let _ = writeln!(
                out,
                "conferbot_bff_webhooks_accepted_total{{event=\"{event}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_webhooks_rejected_total Webhook deliveries refused, by reason.\n# TYPE conferbot_bff_webhooks_rejected_total counter"
        );
        let rejected = self
            .webhooks_rejected
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        for (reason, n) in rejected {
            let _ = writeln!(
                out,
                "conferbot_bff_webhooks_rejected_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_webhooks_duplicate_total Webhook retries of deliveries already accepted (answered 200, not re-sent).\n# TYPE conferbot_bff_webhooks_duplicate_total counter\nconferbot_bff_webhooks_duplicate_total {}",
            load(&self.webhooks_duplicate)
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_sse_clients SSE streams open.\n# TYPE conferbot_bff_sse_clients gauge\nconferbot_bff_sse_clients {}",
            self.sse_clients.load(Ordering::Relaxed).max(0)
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_sse_events_sent_total Events sent on SSE streams.\n# TYPE conferbot_bff_sse_events_sent_total counter\nconferbot_bff_sse_events_sent_total {}",
            load(&self.sse_events_sent)
        );
        let _ = writeln!(
            out,
            "# HELP conferbot_bff_shared_state_refused_total Requests refused because Redis was unreachable.\n# TYPE conferbot_bff_shared_state_refused_total counter\nconferbot_bff_shared_state_refused_total {}",
            load(&self.shared_state_refused)
        );
        let redis = self.redis_up.load(Ordering::Relaxed);
        if redis > 0 {
            let _ = writeln!(
                out,
                "# HELP conferbot_bff_redis_up Whether the shared state (Redis) answers.\n# TYPE conferbot_bff_redis_up gauge\nconferbot_bff_redis_up {}",
                u8::from(redis == 2)
            );
        }
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_insert(0) += 1;
    }
}

fn render_pairs(
    out: &mut String,
    name: &str,
    help: &str,
    map: &Mutex<BTreeMap<(&'static str, u16), u64>>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let map = map.lock().map(|m| m.clone()).unwrap_or_default();
    for ((route, status), n) in map {
        let _ = writeln!(out, "{name}{{route=\"{route}\",status=\"{status}\"}} {n}");
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
            "conferbot_bff_requests_total{route=\"listChatbots\",status=\"200\"} 2",
            "conferbot_bff_requests_total{route=\"unmatched\",status=\"404\"} 1",
            "conferbot_bff_upstream_calls_total{route=\"listChatbots\",status=\"200\"} 1",
            "conferbot_bff_cache_total{result=\"hit\"} 0",
            "conferbot_bff_cache_total{result=\"coalesced\"} 1",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"1\"} 0",
            "conferbot_bff_queue_wait_seconds_bucket{le=\"2.5\"} 1",
            "conferbot_bff_queue_wait_seconds_count 1",
            "conferbot_bff_upstream_latency_seconds_bucket{le=\"0.05\"} 1",
            "conferbot_bff_upstream_latency_seconds_sum 0.03",
            "conferbot_bff_webhooks_received_total 0",
            "conferbot_bff_sse_clients 0",
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
            "conferbot_bff_redis_up 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
