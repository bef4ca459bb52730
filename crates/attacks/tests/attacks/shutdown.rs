//! Shutdown held hostage (issue 12: one 27-byte partial request made SIGTERM
//! never finish, new connections refused meanwhile: an outage).

use std::time::Duration;

use conferbot_attacks::flood::{attackers, withheld_body, Flood, PARTIAL_REQUEST};
use conferbot_attacks::sockets::{connect_from, exchange, get, loopback, read_answer};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::support::{start, SLACK};

const USAGE: &str = "/api/conferbot/external/v1/usage";

#[tokio::test]
async fn sigterm_answers_requests_in_flight_closes_partial_ones_and_exits_early() {
    // Bodies time out after 1 s, before the 4 s deadline: withheld bodies
    // are answered 408 while shutting down, like any request in flight.
    let mut bff = start(
        "shutdown-in-flight",
        &["--shutdown-timeout", "4s", "--body-timeout", "1s"],
    );
    bff.sandbox_fault(&json!({"kind": "delay", "count": 1, "delayMs": 1500}))
        .await
        .unwrap();
    let addr = bff.addr;
    let in_flight = tokio::spawn(async move {
        exchange(loopback(1), addr, &get(USAGE), Duration::from_secs(10)).await
    });
    let mut partial = Flood::open(addr, 50, &attackers(4), PARTIAL_REQUEST).await;
    let mut withheld = Vec::new();
    for i in 0..10 {
        let mut socket = connect_from(conferbot_attacks::flood::attacker(i), addr)
            .await
            .unwrap();
        socket
            .write_all(&withheld_body("/api/conferbot/webhooks/incoming"))
            .await
            .unwrap();
        withheld.push(socket);
    }
    let _idle = Flood::open(addr, 50, &attackers(4), &[]).await;
    // Let the slow request reach the sandbox.
    tokio::time::sleep(Duration::from_millis(300)).await;

    bff.terminate().unwrap();
    // Partial requests are closed at once: no answer, no wait for them.
    let (closed, received) = partial.closed_by_server(SLACK).await.unwrap();
    assert_eq!((closed, received), (50, 0), "partial requests at shutdown");
    // The listener is closed: new connections are refused.
    assert!(
        connect_from(loopback(1), addr).await.is_err(),
        "a new connection during shutdown"
    );
    // The request in flight upstream is answered; so are the withheld bodies (408).
    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.status, Some(200), "{}", answer.raw);
    for socket in &mut withheld {
        let answer = read_answer(socket, Duration::from_secs(3)).await;
        assert_eq!(answer.status, Some(408), "{}", answer.raw);
    }
    // Everything answered, so it exits before its deadline (4 s from SIGTERM);
    // the slow upstream call took 1.5 s from before the signal.
    let exit = bff.wait_exit(Duration::from_secs(4) + SLACK).await.unwrap();
    let (status, _) = exit.expect("the BFF did not exit within its shutdown deadline");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_exits_within_the_deadline_whatever_clients_do() {
    // Bodies may take 60 s, the deadline is 2 s: the deadline wins.
    let mut bff = start(
        "shutdown-deadline",
        &[
            "--shutdown-timeout",
            "2s",
            "--body-timeout",
            "60s",
            "--request-timeout",
            "90s",
        ],
    );
    let addr = bff.addr;
    let mut withheld = Vec::new();
    for i in 0..20 {
        let mut socket = connect_from(conferbot_attacks::flood::attacker(i), addr)
            .await
            .unwrap();
        socket
            .write_all(&withheld_body("/api/conferbot/webhooks/incoming"))
            .await
            .unwrap();
        withheld.push(socket);
    }
    let _partial = Flood::open(addr, 20, &attackers(2), PARTIAL_REQUEST).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    bff.terminate().unwrap();
    let exit = bff.wait_exit(Duration::from_secs(2) + SLACK).await.unwrap();
    let (status, took) = exit.expect("the BFF did not exit within its shutdown deadline");
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_millis(1900),
        "left before its deadline: {took:?}"
    );
    assert!(
        bff.log().contains("shutdown deadline reached"),
        "{}",
        bff.log()
    );
}

#[tokio::test]
async fn a_lone_partial_request_does_not_hold_sigterm() {
    // The default deadline (25 s): the partial request must not make the
    // BFF wait for it.
    let mut bff = start("shutdown-partial", &[]);
    let _partial = Flood::open(bff.addr, 1, &attackers(1), PARTIAL_REQUEST).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    bff.terminate().unwrap();
    let exit = bff.wait_exit(SLACK).await.unwrap();
    let (status, _) = exit.expect("a partial request held SIGTERM");
    assert!(status.success(), "{status:?}");
}
