//! Three BFF replicas sharing one Redis (`--redis`): one rate window, one
//! cache with coalescing, one event log; and what happens when Redis goes.

use conferbot_policy::refresh_budget::RefreshBudget;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use conferbot_bff::{ApiKey, BffConfig, RedisUrl, ServeError, WebhookSecret};
use conferbot_sandbox::{keys, RunningSandbox, SandboxConfig, SandboxStats};
use futures_util::future::join_all;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::live::{delivery, now, post_signed, SseClient, SECRET};
use crate::redis_server::RedisServer;
use crate::support::{fast_rate, localhost, start_bff, Reply, API};
use crate::webhooks::{EVENTS, HOOK};

const WAIT: Duration = Duration::from_secs(10);

/// How to stop one replica, and its server task.
type Stop = (oneshot::Sender<()>, JoinHandle<Result<(), ServeError>>);

pub(crate) struct Replicas {
    pub(crate) sandbox: RunningSandbox,
    pub(crate) redis: RedisServer,
    addrs: Vec<SocketAddr>,
    stops: Vec<Stop>,
    pub(crate) client: reqwest::Client,
}

impl Replicas {
    pub(crate) async fn start(
        count: usize,
        sandbox: SandboxConfig,
        tweak: impl Fn(&mut BffConfig),
    ) -> Self {
        let redis = RedisServer::start().await;
        let sandbox = RunningSandbox::start(sandbox, localhost(0)).await.unwrap();
        let mut addrs = Vec::new();
        let mut stops = Vec::new();
        for _ in 0..count {
            let mut config = BffConfig::new(ApiKey::new(keys::STARTER).unwrap());
            config.settings.upstream = sandbox.base_url();
            config.settings.rate = fast_rate();
            config.redis = Some(RedisUrl::new(&redis.url()).unwrap());
            config.webhook_secret = WebhookSecret::new(SECRET);
            config.settings.refresh_budget = RefreshBudget::Off; // calls are counted exactly
            tweak(&mut config);
            let (addr, stop, task) = start_bff(config).await;
            addrs.push(addr);
            stops.push((stop, task));
        }
        let replicas = Self {
            sandbox,
            redis,
            addrs,
            stops,
            client: reqwest::Client::new(),
        };
        for i in 0..count {
            replicas.wait_health(i, "ok").await;
        }
        replicas
    }

    pub(crate) fn url(&self, replica: usize, path: &str) -> String {
        format!("http://{}{path}", self.addrs[replica % self.addrs.len()])
    }

    pub(crate) async fn get(&self, replica: usize, path: &str) -> Reply {
        let url = self.url(replica, &format!("{API}{path}"));
        Reply::of(self.client.get(url).send().await.unwrap()).await
    }

    pub(crate) fn stats(&self) -> SandboxStats {
        self.sandbox.stats()
    }

    pub async fn health(&self, replica: usize) -> serde_json::Value {
        let reply = Reply::of(
            self.client
                .get(self.url(replica, "/healthz"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }

    /// Waits until `/healthz` of `replica` says `status`.
    pub async fn wait_health(&self, replica: usize, status: &str) {
        for _ in 0..200 {
            if self.health(replica).await["status"] == status {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "replica {replica} never became {status}: {}",
            self.health(replica).await
        );
    }

    pub async fn metrics(&self, replica: usize) -> String {
        let response = self
            .client
            .get(self.url(replica, "/metrics"))
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    }

    pub(crate) async fn shutdown(self) {
        for (stop, task) in self.stops {
            let _ = stop.send(());
            tokio::time::timeout(WAIT, task)
                .await
                .expect("a replica did not stop")
                .unwrap()
                .unwrap();
        }
        drop(self.redis);
    }
}

fn count_by_status(replies: &[Reply]) -> BTreeMap<u16, usize> {
    let mut by = BTreeMap::new();
    for reply in replies {
        *by.entry(reply.status).or_default() += 1;
    }
    by
}

#[tokio::test]
async fn a_burst_of_300_over_three_replicas_never_earns_an_upstream_429() {
    let rate: conferbot::RateSpec = "20/2s".parse().unwrap();
    let sandbox = SandboxConfig {
        rate,
        ..SandboxConfig::default()
    };
    let replicas = Replicas::start(3, sandbox, |c| {
        c.settings.rate = rate;
        // 300 at 20 per 2.2 s (window + margin) is about 31 s.
        c.settings.queue_wait = Duration::from_secs(45);
        // A request may wait that long in the queue: the whole request may take longer.
        c.settings.connections.request_timeout = Duration::from_secs(60);
    })
    .await;
    let replies = join_all((1..=300).map(|n| {
        let limit = if n % 2 == 0 { 1 } else { 2 };
        let path = format!("/chatbots?page={n}&limit={limit}");
        let replicas = &replicas;
        async move { replicas.get(n, &path).await }
    }))
    .await;
    let by_status = count_by_status(&replies);
    let stats = replicas.stats();
    println!("burst of 300 over 3 replicas: answers {by_status:?}, sandbox {stats:?}");
    assert_eq!(
        by_status.get(&200),
        Some(&300),
        "{by_status:?}: {:?}",
        replies.iter().find(|r| r.status != 200)
    );
    assert_eq!(stats.rate_limited, 0, "upstream 429s: {stats:?}");
    assert_eq!(stats.api_calls, 300);
    for replica in 0..3 {
        let metrics = replicas.metrics(replica).await;
        assert!(
            metrics.contains("conferbot_bff_queue_wait_seconds_count 100"),
            "{metrics}"
        );
    }
    replicas.shutdown().await;
}

#[tokio::test]
async fn three_hundred_identical_gets_over_three_replicas_make_one_upstream_call() {
    let replicas = Replicas::start(3, crate::support::sandbox_config(), |_| {}).await;
    // Slow upstream, so that all 300 arrive while the one call is in flight.
    let fault = json!({"kind": "delay", "count": 1, "delayMs": 1500});
    let armed = replicas
        .client
        .post(format!("{}/faults", replicas.sandbox.admin_url()))
        .header("content-type", "application/json")
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert!(armed.status().is_success());
    let replies = join_all((0..300).map(|n| replicas.get(n, "/chatbots?page=1&limit=20"))).await;
    let stats = replicas.stats();
    let mut by_cache: BTreeMap<String, usize> = BTreeMap::new();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.text, replies[0].text, "answers differ");
        *by_cache
            .entry(reply.header("x-cache").unwrap_or("none").to_owned())
            .or_default() += 1;
    }
    println!(
        "300 identical GETs over 3 replicas: x-cache {by_cache:?}, upstream calls {}",
        stats.api_calls
    );
    assert_eq!(
        stats.api_calls, 1,
        "coalescing across replicas failed: {by_cache:?}"
    );
    assert_eq!(by_cache.get("miss"), Some(&1), "{by_cache:?}");
    // Another replica's later read is a hit on the shared cache.
    assert_eq!(
        replicas
            .get(2, "/chatbots?limit=20")
            .await
            .header("x-cache"),
        Some("hit")
    );
    assert_eq!(replicas.stats().api_calls, 1);
    replicas.shutdown().await;
}

#[tokio::test]
async fn a_webhook_on_one_replica_reaches_streams_and_caches_on_the_others() {
    let replicas = Replicas::start(3, crate::support::sandbox_config(), |_| {}).await;
    let list = replicas.get(1, "/chatbots").await;
    assert_eq!(list.header("x-cache"), Some("miss"));
    assert_eq!(
        replicas.get(2, "/chatbots").await.header("x-cache"),
        Some("hit")
    );
    let bot = list.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let count = list.json()["data"][0]["responseCount"].as_i64().unwrap();

    let mut streams = Vec::new();
    for replica in 0..3 {
        streams.push(SseClient::connect(&replicas.url(replica, EVENTS), None).await);
    }
    let stamp = now();
    let body = delivery("response.created", stamp, json!({"botId": bot}));
    let (status, text) = post_signed(
        &replicas.client,
        &replicas.url(0, HOOK),
        &body,
        SECRET,
        &stamp.to_string(),
        "response.created",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let mut ids = Vec::new();
    for (replica, stream) in streams.iter_mut().enumerate() {
        let events = stream.drain_events(Duration::from_millis(1500)).await;
        assert_eq!(events.len(), 1, "replica {replica}: {events:?}");
        assert_eq!(events[0].event.as_deref(), Some("response.created"));
        ids.push(events[0].id.clone().unwrap());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    // The shared answer was patched for every replica: no upstream call.
    let calls = replicas.stats().api_calls;
    let patched = replicas.get(2, "/chatbots").await;
    assert_eq!(patched.header("x-cache"), Some("hit"));
    assert_eq!(patched.json()["data"][0]["responseCount"], count + 1);
    assert_eq!(replicas.stats().api_calls, calls);

    // A browser that reconnects to another replica resumes from the shared log.
    drop(streams);
    for n in 0..2 {
        let body = delivery("response.updated", now(), json!({"n": n}));
        let (status, _) = post_signed(
            &replicas.client,
            &replicas.url(1, HOOK),
            &body,
            SECRET,
            &now().to_string(),
            "response.updated",
        )
        .await;
        assert_eq!(status, 200);
    }
    let mut back = SseClient::connect(&replicas.url(2, EVENTS), Some(&ids[0])).await;
    let missed = back.drain_events(Duration::from_millis(1000)).await;
    let names: Vec<_> = missed.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(
        names,
        vec!["response.updated", "response.updated"],
        "{missed:?}"
    );
    replicas.shutdown().await;
}

#[tokio::test]
async fn with_redis_down_upstream_calls_fail_closed_and_everything_recovers() {
    let mut replicas = Replicas::start(2, crate::support::sandbox_config(), |_| {}).await;
    assert_eq!(
        replicas.health(0).await,
        json!({"status": "ok", "redis": "up"})
    );
    assert_eq!(replicas.get(0, "/usage").await.status, 200);
    let mut stream = SseClient::connect(&replicas.url(1, EVENTS), None).await;

    replicas.redis.stop();
    replicas.wait_health(0, "degraded").await;
    replicas.wait_health(1, "degraded").await;
    assert_eq!(replicas.health(1).await["redis"], "unreachable");
    let calls = replicas.stats().api_calls;
    for page in 1..=5 {
        let reply = replicas.get(page, &format!("/chatbots?page={page}")).await;
        assert_eq!(reply.status, 503, "{}", reply.text);
        assert_eq!(reply.json()["error"], "Service unavailable");
        assert!(reply.header("retry-after").is_some());
    }
    assert_eq!(
        replicas.stats().api_calls,
        calls,
        "an upstream call went out unshaped"
    );
    let body = delivery("response.created", now(), json!({}));
    let (status, text) = post_signed(
        &replicas.client,
        &replicas.url(0, HOOK),
        &body,
        SECRET,
        &now().to_string(),
        "response.created",
    )
    .await;
    assert_eq!(
        status, 503,
        "a delivery was accepted but could not be shared: {text}"
    );
    assert!(replicas
        .metrics(0)
        .await
        .contains("conferbot_bff_redis_up 0"));

    replicas.redis.restart().await;
    replicas.wait_health(0, "ok").await;
    replicas.wait_health(1, "ok").await;
    assert!(replicas
        .metrics(1)
        .await
        .contains("conferbot_bff_redis_up 1"));
    let reply = replicas.get(0, "/chatbots?page=1").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = delivery("response.created", now(), json!({}));
    let (status, text) = post_signed(
        &replicas.client,
        &replicas.url(0, HOOK),
        &body,
        SECRET,
        &now().to_string(),
        "response.created",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    // The stream opened before the outage is still served.
    let events = stream.drain_events(Duration::from_millis(1500)).await;
    assert!(
        events
            .iter()
            .any(|e| e.event.as_deref() == Some("response.created")),
        "{events:?}"
    );
    replicas.shutdown().await;
}
