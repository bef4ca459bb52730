//! Protocol strictness: bare LF refused (hyper's parser accepts it; the BFF
//! refuses it), cleartext HTTP/2 only with `--h2c`.

use std::time::Duration;

use conferbot_attacks::sockets::{connect_from, exchange, loopback, read_answer};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;

use crate::support::start;

const LIMIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn heads_with_a_bare_lf_are_refused_and_crlf_ones_served() {
    let bff = start("bare-lf", &[]);
    for head in [
        &b"GET /healthz HTTP/1.1\nHost: localhost\r\nConnection: close\r\n\r\n"[..],
        b"GET /healthz HTTP/1.1\r\nHost: localhost\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\n",
        b"GET /healthz HTTP/1.1\nHost: localhost\nConnection: close\n\n",
    ] {
        let answer = exchange(loopback(1), bff.addr, head, LIMIT).await.unwrap();
        assert_eq!(answer.status, Some(400), "{head:?}: {}", answer.raw);
        assert!(answer.body().contains("bare LF"), "{}", answer.raw);
        assert!(answer.closed);
    }
    // Keep-alive: a clean request, a POST whose body has bare LFs (bodies are
    // not heads), then a bare-LF head: 200, 200, 400, on one connection.
    let body = "{\n\"url\":\n\"x\"\n}\n";
    let wire = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n\
         POST /api/conferbot/nope HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}\
         GET /healthz HTTP/1.1\nHost: localhost\r\n\r\n",
        body.len()
    );
    let answer = exchange(loopback(1), bff.addr, wire.as_bytes(), LIMIT)
        .await
        .unwrap();
    let statuses: Vec<&str> = answer
        .raw
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| answer.raw.get(at + 9..at + 12))
        .collect();
    assert_eq!(statuses, ["200", "404", "400"], "{}", answer.raw);
}

#[tokio::test]
async fn cleartext_http2_is_refused_unless_enabled() {
    let bff = start("no-h2c", &[]);
    let mut socket = connect_from(loopback(1), bff.addr).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame.
    socket
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let answer = read_answer(&mut socket, LIMIT).await;
    assert!(answer.closed, "h2c connection left open");
    assert!(answer.raw.is_empty(), "answered h2c: {:?}", answer.raw);
    assert!(
        h2c_get(bff.addr).await.is_err(),
        "an HTTP/2 client was served"
    );

    let bff = start("h2c", &["--h2c"]);
    assert_eq!(h2c_get(bff.addr).await.unwrap(), 200);
}

/// `GET /healthz` over cleartext HTTP/2 with prior knowledge (hyper's client).
async fn h2c_get(addr: std::net::SocketAddr) -> anyhow::Result<u16> {
    let tcp = connect_from(loopback(1), addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    let request =
        hyper::Request::get(format!("http://{addr}/healthz")).body(Empty::<bytes::Bytes>::new())?;
    let response = tokio::time::timeout(LIMIT, sender.send_request(request)).await??;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}
