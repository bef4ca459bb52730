//! Shared test harness: a sandbox on 127.0.0.1:0, a reqwest client, JSON
//! helpers, and a tiny webhook receiver. Each test binary uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use conferbot::RateSpec;
use conferbot_sandbox::{RunningSandbox, SandboxConfig};
use reqwest::Method;
use serde_json::Value;

/// A rate no test reaches unless it means to.
pub const ROOMY_RATE: RateSpec = RateSpec {
    max: 100_000,
    window: Duration::from_secs(60),
};

/// A config with a roomy rate and fast delivery retries.
pub fn config() -> SandboxConfig {
    SandboxConfig {
        rate: ROOMY_RATE,
        delivery_backoff: Duration::from_millis(50),
        ..SandboxConfig::default()
    }
}

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub client: reqwest::Client,
}

/// An answer: status, headers, and the body as JSON (`Value::Null` if it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub raw: Bytes,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn start(config: SandboxConfig) -> Harness {
    let sandbox = RunningSandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Harness {
        sandbox,
        client: reqwest::Client::new(),
    }
}

impl Harness {
    /// `{base}/external/v1{path}`.
    pub fn api(&self, path: &str) -> String {
        format!(
            "{}{}{path}",
            self.sandbox.base_url(),
            conferbot::EXTERNAL_PREFIX
        )
    }

    /// `{admin}{path}`.
    pub fn admin(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.admin_url())
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.try_send(method, url, key, body).await.unwrap()
    }

    pub async fn try_send(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.client.request(method, url);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await?;
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            raw,
            json,
        })
    }

    /// `GET {api}{path}` with `key`.
    pub async fn get(&self, key: &str, path: &str) -> Answer {
        self.send(Method::GET, &self.api(path), Some(key), None)
            .await
    }

    /// `POST {admin}{path}` with a JSON body.
    pub async fn admin_post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, &self.admin(path), None, Some(body))
            .await
    }

    /// `GET {admin}{path}`.
    pub async fn admin_get(&self, path: &str) -> Answer {
        self.send(Method::GET, &self.admin(path), None, None).await
    }

    /// Creates a webhook for `key`; returns the create answer's `data`.
    pub async fn create_webhook(&self, key: &str, url: &str, events: &[&str]) -> Value {
        let answer = self
            .send(
                Method::POST,
                &self.api("/webhooks"),
                Some(key),
                Some(serde_json::json!({"url": url, "events": events})),
            )
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.json);
        answer.json["data"].clone()
    }

    /// Polls `GET /sandbox/deliveries` until `done` holds (or 5 s pass).
    pub async fn deliveries_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..100 {
            let log = self.admin_get("/deliveries").await.json["data"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if done(&log) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("deliveries never reached the expected state");
    }
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A webhook receiver on 127.0.0.1:0 that answers `fail_status` to the first
/// `failures` requests, then 200, and records every request.
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(failures: usize, fail_status: StatusCode) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let log = Arc::clone(&log);
                async move {
                    let mut log = log.lock().unwrap();
                    log.push(Received { headers, body });
                    if log.len() <= failures {
                        fail_status
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, received }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits (up to 5 s) until `n` requests arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            {
                let log = self.received.lock().unwrap();
                if log.len() >= n {
                    return log.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("receiver got {} requests, expected {n}", self.count());
    }
}
