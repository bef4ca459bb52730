//! The measured runs behind `conferbot-attack` (the benchmarks' load), each
//! returning its figures as JSON: legitimate latency without and during each
//! attack with the BFF's RSS ([`hostile`]); RSS and fan-out latency at many
//! event streams ([`streams`]); an allocator's RSS idle, under a header
//! flood, after it, and per event stream ([`memory`]).

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::bff::{Bff, Launch};
use crate::flood::{attackers, stalled_head, withheld_body, Flood, PARTIAL_REQUEST};
use crate::probe::{self, Latencies};
use crate::streams;

/// Legitimate requests per series, and the pause between them.
const SERIES: usize = 200;
const PAUSE: Duration = Duration::from_millis(2);
/// The secret deliveries are signed with in [`streams`].
const SECRET: &str = "bench-webhook-secret";

/// One attack of [`hostile`]: its name, what it does, how the BFF is
/// started, and the sockets it holds.
struct Attack {
    name: &'static str,
    what: &'static str,
    descriptors: Option<u64>,
    count: usize,
    addresses: usize,
    bytes: Vec<u8>,
}

/// Every attack, each against a fresh BFF: legitimate `GET /healthz` (a new
/// connection each, from 127.0.0.1) p50/p99 before and during, and RSS idle,
/// at its peak during, and 2 s after the attacker left.
pub async fn hostile() -> Result<Value> {
    let attacks = [
        Attack {
            name: "idle-flood",
            what: "1,100 idle sockets from 10 addresses, the BFF under RLIMIT_NOFILE 1,024",
            descriptors: Some(1024),
            count: 1100,
            addresses: 10,
            bytes: Vec::new(),
        },
        Attack {
            name: "header-flood",
            what: "2,000 connections from 8 addresses, each a 15 KiB head that never ends",
            descriptors: None,
            count: 2000,
            addresses: 8,
            bytes: stalled_head(15 * 1024),
        },
        Attack {
            name: "partial-requests",
            what: "1,000 connections from 8 addresses, each the 27 bytes `GET /healthz HTTP/1.1\\r\\nHos`",
            descriptors: None,
            count: 1000,
            addresses: 8,
            bytes: PARTIAL_REQUEST.to_vec(),
        },
        Attack {
            name: "withheld-bodies",
            what: "500 webhook POSTs from 4 addresses declaring Content-Length: 100 and sending no body",
            descriptors: None,
            count: 500,
            addresses: 4,
            bytes: withheld_body(streams::RECEIVER),
        },
    ];
    let mut results = Vec::new();
    for attack in attacks {
        let mut launch = Launch::new(attack.name, &[]);
        launch.descriptors = attack.descriptors;
        let bff = Bff::start(&launch)?;
        probe::series(bff.addr, 20, PAUSE).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = bff.rss_kib()?;
        let without = probe::series(bff.addr, SERIES, PAUSE).await;
        let flood = Flood::open(
            bff.addr,
            attack.count,
            &attackers(attack.addresses),
            &attack.bytes,
        )
        .await;
        let during = probe::series(bff.addr, SERIES, PAUSE).await;
        let peak = bff.rss_kib()?;
        drop(flood);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = bff.rss_kib()?;
        results.push(json!({
            "name": attack.name, "what": attack.what,
            "without": without.to_json(), "during": during.to_json(),
            "rssKib": {"idle": idle, "during": peak, "after": after},
        }));
    }
    Ok(json!({ "attacks": results }))
}

/// `count` event streams from 32-stream groups of attacker addresses (the
/// default per-address cap), then `deliveries` signed deliveries posted one
/// at a time: RSS idle and with the streams open, and per (stream, delivery)
/// the latency from the post to the event's arrival.
pub async fn streams(count: usize, deliveries: usize) -> Result<Value> {
    let mut launch = Launch::new("streams", &[]);
    launch
        .env
        .push(("CONFERBOT_WEBHOOK_SECRET".into(), SECRET.into()));
    let bff = Bff::start(&launch)?;
    probe::series(bff.addr, 20, PAUSE).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = bff.rss_kib()?;
    let connect_started = Instant::now();
    let held = open_streams(&bff, count).await?;
    let connect_ms = connect_started.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_streams = bff.rss_kib()?;
    let mut readers = JoinSet::new();
    let arrivals = streams::listen(held, &mut readers);
    let mut posted = Vec::new();
    let cpu_before = bff.cpu_seconds()?;
    for n in 0..deliveries {
        posted.push(Instant::now());
        let status = streams::deliver(bff.addr, SECRET, n).await?;
        ensure!(status == 200, "delivery {n} answered {status}");
        // One delivery at a time, so that each one's fan-out is timed alone.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu = bff.cpu_seconds()? - cpu_before;
    let peak = bff.rss_kib()?;
    let mut latencies = Latencies::default();
    let mut missing = 0;
    if let Ok(all) = arrivals.lock() {
        for stream in all.iter() {
            missing += deliveries.saturating_sub(stream.len());
            for (at, sent) in stream.iter().zip(&posted) {
                latencies
                    .ms
                    .push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
    }
    readers.abort_all();
    Ok(json!({
        "streams": count, "deliveries": deliveries, "connectMs": connect_ms,
        "rssKib": {"idle": idle, "withStreams": with_streams, "afterDeliveries": peak},
        "fanOut": latencies.to_json(), "missing": missing,
        // The BFF's CPU for the whole delivery phase (deliveries, keepalives
        // included) per event delivered to one stream.
        "bffCpuUsPerEvent": cpu * 1e6 / (count * deliveries).max(1) as f64,
    }))
}

/// Opens `count` streams, 32 per attacker address, 200 at a time.
async fn open_streams(bff: &Bff, count: usize) -> Result<Vec<tokio::net::TcpStream>> {
    let mut held = Vec::with_capacity(count);
    let mut opening = JoinSet::new();
    for i in 0..count {
        let (from, to) = (crate::flood::attacker(i / 32), bff.addr);
        opening.spawn(async move { streams::open(from, to).await });
        if opening.len() >= 200 || i + 1 == count {
            while let Some(opened) = opening.join_next().await {
                match opened?? {
                    Ok(stream) => held.push(stream),
                    Err(refused) => anyhow::bail!("stream {} refused: {}", held.len(), refused.raw),
                }
            }
        }
    }
    Ok(held)
}

/// What an allocator costs: RSS idle, during a header flood (2,000 stalled
/// 15 KiB heads), 2 s after it, and per event stream (3,000 open).
pub async fn memory() -> Result<Value> {
    let bff = Bff::start(&Launch::new("memory", &[]))?;
    probe::series(bff.addr, 50, PAUSE).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = bff.rss_kib()?;
    let flood = Flood::open(bff.addr, 2000, &attackers(8), &stalled_head(15 * 1024)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = bff.rss_kib()?;
    drop(flood);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = bff.rss_kib()?;
    drop(bff);

    let bff = Bff::start(&Launch::new("memory-streams", &[]))?;
    probe::series(bff.addr, 50, PAUSE).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let streams_idle = bff.rss_kib()?;
    let open = open_streams(&bff, 3000).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_streams = bff.rss_kib()?;
    drop(open);
    Ok(json!({
        "idleKib": idle, "floodHeldKib": held, "floodAfterKib": after,
        "streamKib": (with_streams.saturating_sub(streams_idle)) as f64 / 3000.0,
    }))
}
