//! Header floods (issue 12: 2,000 connections each sending ~390 KB of
//! headers and never finishing pushed RSS from 16 MB to 1.07 GB, still held
//! after they closed).

use std::time::Duration;

use conferbot_attacks::flood::{attackers, stalled_head, Flood};
use conferbot_attacks::probe;

use crate::support::start;

/// Connections of the flood, 250 from each of 8 addresses (under the
/// per-address cap of 256, so that they are all held).
const FLOOD: usize = 2000;
/// Each sends a head of this many bytes and stops: just under the default
/// `--max-header-bytes` (16 KiB), the most a head may hold while it waits.
const STALLED_HEAD: usize = 15 * 1024;
/// RSS may grow by at most this much while the flood is held: 40 KiB per
/// connection. Why: a held connection keeps its head (up to 16 KiB, hyper's
/// read buffer, grown in steps), hyper's 8 KiB write buffer, and its task
/// and state (a few KiB); measured: about 29 KiB each. The landed BFF grew
/// by over 1 GB under the same flood with ~390 KB heads.
const HELD_GROWTH_KIB: u64 = FLOOD as u64 * 40;
/// Once the flood is gone, RSS must come back to within this of idle: the
/// allocator returns freed memory (see the README's Limits section for the
/// allocator measured).
const AFTER_GROWTH_KIB: u64 = 16 * 1024;

#[tokio::test]
async fn a_stalled_header_flood_is_held_in_bounded_memory_and_given_back() {
    let bff = start("header-flood", &[]);
    for _ in 0..20 {
        assert!(probe::once(bff.addr).await.is_some());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = bff.rss_kib().unwrap();

    let head = stalled_head(STALLED_HEAD);
    let flood = Flood::open(bff.addr, FLOOD, &attackers(8), &head).await;
    assert_eq!(flood.failed, 0, "every stalled head should be accepted");
    let mut held = 0;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        held = held.max(bff.rss_kib().unwrap());
    }
    let during = probe::series(bff.addr, 10, Duration::from_millis(10)).await;
    assert_eq!(
        during.failed, 0,
        "legitimate requests during the flood: {during:?}"
    );

    // Heads past --max-header-bytes are refused (431) and closed, not buffered.
    let mut oversized = Flood::open(bff.addr, 50, &attackers(8), &stalled_head(390 * 1024)).await;
    let (closed, _) = oversized
        .closed_by_server(Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(closed, 50, "oversized heads closed");
    for _ in 0..5 {
        held = held.max(bff.rss_kib().unwrap());
    }

    drop(flood);
    drop(oversized);
    let mut after = u64::MAX;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = bff.rss_kib().unwrap();
        if after <= idle + AFTER_GROWTH_KIB {
            break;
        }
    }
    println!("RSS idle {idle} KiB, held {held} KiB, after {after} KiB");
    assert!(
        held <= idle + HELD_GROWTH_KIB,
        "RSS grew from {idle} KiB to {held} KiB under the flood"
    );
    assert!(
        after <= idle + AFTER_GROWTH_KIB,
        "RSS stayed at {after} KiB (idle: {idle} KiB) after the flood"
    );
    assert!(probe::once(bff.addr).await.is_some());
}
