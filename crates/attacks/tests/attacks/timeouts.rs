//! Timeouts: withheld bodies (issue 12: a POST declaring `Content-Length:
//! 100` with no body got no answer at all), slow heads, idle keep-alive.

use std::time::{Duration, Instant};

use conferbot_attacks::flood::{attacker, withheld_body};
use conferbot_attacks::sockets::{connect_from, loopback, read_answer};
use tokio::io::AsyncWriteExt;

use crate::support::{start, SLACK};

#[tokio::test]
async fn a_declared_body_that_never_comes_is_answered_408_within_the_body_timeout() {
    let bff = start("withheld-body", &["--body-timeout", "2s"]);
    for path in [
        "/api/conferbot/webhooks/incoming",
        "/api/conferbot/external/v1/webhooks",
    ] {
        let started = Instant::now();
        let mut socket = connect_from(attacker(0), bff.addr).await.unwrap();
        socket.write_all(&withheld_body(path)).await.unwrap();
        let answer = read_answer(&mut socket, Duration::from_secs(2) + SLACK * 2).await;
        let took = started.elapsed();
        assert_eq!(answer.status, Some(408), "{path}: {}", answer.raw);
        assert!(answer.body().contains("Request timeout"), "{}", answer.raw);
        assert_eq!(answer.header("connection"), Some("close"), "{}", answer.raw);
        assert!(answer.closed, "the connection stays open after a 408");
        assert!(
            took >= Duration::from_millis(1900) && took <= Duration::from_secs(2) + SLACK,
            "{path}: answered after {took:?}"
        );
    }
}

#[tokio::test]
async fn a_head_dripped_byte_by_byte_is_cut_at_the_header_timeout() {
    let bff = start("slow-head", &["--header-read-timeout", "1s"]);
    let mut socket = connect_from(attacker(0), bff.addr).await.unwrap();
    let took = closed_unanswered_after_a_dripped_head(&mut socket).await;
    assert!(took <= Duration::from_secs(1) + SLACK * 2, "{took:?}");
}

#[tokio::test]
async fn keep_alive_idles_for_the_idle_timeout_not_the_header_timeout() {
    // Header timeout 1 s, idle timeout 3 s: a connection idle for 2 s after
    // an answer is still served; one idle past 3 s is closed.
    let bff = start(
        "idle",
        &["--header-read-timeout", "1s", "--idle-timeout", "3s"],
    );
    let mut socket = connect_from(loopback(1), bff.addr).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    socket.write_all(request).await.unwrap();
    let first = read_answer(&mut socket, Duration::from_millis(500)).await;
    assert_eq!(first.status, Some(200), "{}", first.raw);
    assert!(!first.closed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    socket.write_all(request).await.unwrap();
    let second = read_answer(&mut socket, Duration::from_millis(500)).await;
    assert_eq!(second.status, Some(200), "after 2 s idle: {}", second.raw);
    // The answer came at most 500 ms ago (the read above waits that long
    // for more): the idle timeout closes within 2.5–3 s from here, where the
    // header timeout would have within 0.5 s.
    let waiting_since = Instant::now();
    let rest = read_answer(&mut socket, Duration::from_secs(3) + SLACK).await;
    let waited = waiting_since.elapsed();
    assert!(rest.closed, "open after {waited:?} idle");
    assert!(
        waited >= Duration::from_millis(1500),
        "closed after only {waited:?} idle"
    );
}

#[tokio::test]
async fn a_later_head_dripped_on_a_kept_alive_connection_is_cut_at_the_header_timeout() {
    // Header timeout 1 s, idle timeout 10 s: after one answer, a second head
    // dripped byte by byte is cut 1 s after its first byte, not when the
    // idle timeout would end the connection. (The connection's task looks at
    // its deadline at least once per shorter timeout rather than being woken
    // by each head: this is the case that design must get right.)
    let bff = start(
        "slow-second-head",
        &["--header-read-timeout", "1s", "--idle-timeout", "10s"],
    );
    let mut socket = connect_from(attacker(0), bff.addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let first = read_answer(&mut socket, Duration::from_millis(500)).await;
    assert_eq!(first.status, Some(200), "{}", first.raw);
    assert!(!first.closed);
    // Idle for a while first, so that the head starts well into the idle period.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let took = closed_unanswered_after_a_dripped_head(&mut socket).await;
    assert!(
        took >= Duration::from_millis(900),
        "cut after only {took:?}"
    );
    assert!(took <= Duration::from_secs(1) + SLACK * 2, "{took:?}");
}

/// Drips a never-ending head on `socket` (for at most the 1 s header timeout
/// and the slack), checks that the server closed it without an answer, and
/// says how long after the first byte that was.
async fn closed_unanswered_after_a_dripped_head(socket: &mut tokio::net::TcpStream) -> Duration {
    let started = Instant::now();
    let sent = drip_head(socket, Duration::from_secs(1) + SLACK * 2).await;
    let answer = read_answer(socket, SLACK).await;
    let took = started.elapsed();
    assert!(answer.closed, "still open after {took:?} and {sent} bytes");
    assert!(answer.raw.is_empty(), "{}", answer.raw);
    took
}

/// Drips a request head that never ends, one byte every 100 ms, until the
/// server closes the socket or `for_at_most` has passed (the header timeout
/// runs from the first byte); the bytes sent.
async fn drip_head(socket: &mut tokio::net::TcpStream, for_at_most: Duration) -> usize {
    let started = Instant::now();
    let mut sent = 0;
    for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: "
        .iter()
        .chain(b"a".repeat(1000).iter())
    {
        if socket.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > for_at_most {
            break;
        }
    }
    sent
}
