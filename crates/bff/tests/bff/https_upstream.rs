//! The production path: the BFF calling an `https://` upstream (the sandbox
//! with a certificate made at start), through the same transport as
//! `http://`, with verification on.

use conferbot_policy::refresh_budget::RefreshBudget;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::any;
use axum::Router;
use conferbot_bff::{ApiKey, BffConfig, UpstreamCa};
use conferbot_sandbox::{keys, RunningSandbox};
use tokio::net::TcpListener;

use crate::support::{fast_rate, localhost, sandbox_config, start_bff, Reply, API, CSRF};

/// A BFF in front of `upstream`, trusting `ca` (or the public roots).
async fn bff_for(upstream: String, ca: Option<&str>) -> (String, impl FnOnce()) {
    let mut config = BffConfig::new(ApiKey::new(keys::STARTER).unwrap());
    config.settings.upstream = upstream;
    config.settings.rate = fast_rate();
    config.settings.refresh_budget = RefreshBudget::Off; // calls are counted exactly
    config.upstream_ca = ca.map(|pem| UpstreamCa::from_pem(pem.as_bytes()).unwrap());
    // One worker, so one upstream pool: each worker keeps its own, and
    // every `reqwest::get` below is a new connection, given to the next
    // worker in turn (`workers_keep_their_own_upstream_connections`).
    config.settings.connections.workers = 1;
    let (addr, stop, _task) = start_bff(config).await;
    (format!("http://{addr}{API}"), move || {
        let _ = stop.send(());
    })
}

async fn get(url: String) -> Reply {
    Reply::of(reqwest::get(url).await.unwrap()).await
}

#[tokio::test]
async fn reads_and_writes_travel_over_https_on_one_reused_connection() {
    let sandbox = RunningSandbox::start_tls(sandbox_config(), localhost(0))
        .await
        .unwrap();
    assert!(sandbox.base_url().starts_with("https://127.0.0.1:"));
    let (api, stop) = bff_for(sandbox.base_url(), sandbox.ca_pem()).await;

    let first = get(format!("{api}/chatbots?limit=3")).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json()["data"].as_array().unwrap().len(), 3);
    // Distinct URLs, one after another: each reaches the sandbox, and all
    // of them share the first TLS connection.
    for page in 2..=6 {
        let reply = get(format!("{api}/chatbots?limit=3&page={page}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let created = Reply::of(
        reqwest::Client::new()
            .post(format!("{api}/webhooks"))
            .header(CSRF.0, CSRF.1)
            .header("content-type", "application/json")
            .body(r#"{"url":"https://example.com/in","events":["response.created"]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let stats = sandbox.stats();
    assert_eq!(stats.api_calls, 7, "{stats:?}");
    assert_eq!(stats.connections, 1, "{stats:?}");
    stop();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn workers_keep_their_own_upstream_connections() {
    let sandbox = RunningSandbox::start_tls(sandbox_config(), localhost(0))
        .await
        .unwrap();
    let mut config = BffConfig::new(ApiKey::new(keys::STARTER).unwrap());
    config.settings.upstream = sandbox.base_url();
    config.settings.rate = fast_rate();
    config.settings.refresh_budget = RefreshBudget::Off;
    config.upstream_ca = sandbox
        .ca_pem()
        .map(|pem| UpstreamCa::from_pem(pem.as_bytes()).unwrap());
    config.settings.connections.workers = 3;
    let (addr, stop, _task) = start_bff(config).await;
    let api = format!("http://{addr}{API}");
    // Nine browser connections, one after another: three per worker, each
    // worker's calls on its own upstream connection, reused.
    for page in 1..=9 {
        let reply = get(format!("{api}/chatbots?limit=3&page={page}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.api_calls, 9, "{stats:?}");
    assert_eq!(stats.connections, 3, "{stats:?}");
    let _ = stop.send(());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_upstream_certificate_nobody_vouches_for_is_refused() {
    let sandbox = RunningSandbox::start_tls(sandbox_config(), localhost(0))
        .await
        .unwrap();
    let stranger = RunningSandbox::start_tls(sandbox_config(), localhost(0))
        .await
        .unwrap();
    // The public roots (the default), and another sandbox's CA.
    for ca in [None, stranger.ca_pem()] {
        let (api, stop) = bff_for(sandbox.base_url(), ca).await;
        let reply = get(format!("{api}/usage")).await;
        assert_eq!(reply.status, 502, "{}", reply.text);
        assert_eq!(reply.json()["error"], "Bad gateway");
        stop();
    }
    assert_eq!(sandbox.stats().api_calls, 0);
    assert!(sandbox.stats().connections >= 2);
    sandbox.shutdown().await;
    stranger.shutdown().await;
}

#[tokio::test]
async fn an_upstream_redirect_is_never_followed() {
    // An upstream that redirects every call to a second server, which counts
    // what reaches it: the key must not travel there.
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let hits = Arc::clone(&elsewhere_hits);
    let elsewhere = Router::new().fallback(any(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    }));
    let elsewhere_listener = TcpListener::bind(localhost(0)).await.unwrap();
    let target = format!("http://{}/stolen", elsewhere_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(elsewhere_listener, elsewhere).await });
    let redirecting = Router::new().fallback(any(move || {
        let target = target.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response() }
    }));
    let listener = TcpListener::bind(localhost(0)).await.unwrap();
    let upstream = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirecting).await });

    let (api, stop) = bff_for(upstream, None).await;
    let reply = get(format!("{api}/usage")).await;
    assert!(reply.status >= 500, "{}", reply.dump());
    assert!(reply.header("location").is_none(), "{}", reply.dump());
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
    stop();
}
