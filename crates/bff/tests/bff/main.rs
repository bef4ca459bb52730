//! The BFF over real HTTP on 127.0.0.1, against the real sandbox started
//! in-process by each test (one test binary, so it links once). The
//! `replicas` tests also start their own `redis-server` (Debian's package).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

mod live;
mod redis_server;
mod support;

mod binary;
mod budget;
mod cache;
mod csrf;
mod echoes;
mod endpoints;
mod events_applied;
mod fairness;
mod forward_auth;
mod hostile_paths;
mod https_upstream;
mod limits;
mod live_sandbox;
mod metrics_access;
mod rebinding;
mod refresh_budget;
mod replays;
mod replicas;
mod replicas_access;
mod replicas_applied;
mod revalidation;
mod secrecy;
mod shaping;
mod shutdown;
mod static_files;
mod webhook_urls;
mod webhooks;
