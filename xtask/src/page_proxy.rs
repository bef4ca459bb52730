//! The HTTP proxy headless Chromium loads the wasm-bindgen test page through:
//! every request it forwards goes to wasm-bindgen-test-runner's server on a
//! connection of its own, closed after the answer.
//!
//! Why: the runner's server (rouille 3.6 on tiny_http 0.12) gives each TCP
//! connection one pool thread for the connection's whole life, and its pool
//! loses a wake-up when connections arrive in a burst (`TaskPool::spawn`
//! trusts an idle count that still includes a thread already woken). A test
//! page importing five JS modules makes Chromium open five keep-alive
//! connections at once; the fifth then waits for a thread until another
//! connection closes, which Chromium's do not, so the module graph never
//! finishes and the run times out on "Loading scripts...". With one request
//! per connection every pool thread is free again within milliseconds.
//!
//! Only `http://` targets on 127.0.0.1 or localhost are forwarded; anything
//! else gets a 403, which also keeps the browser offline.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

/// Longest request or response head forwarded (the runner's are < 1 KiB).
const MAX_HEAD: u64 = 64 * 1024;
/// A connection idle this long is dropped, so no thread waits forever.
const IDLE: Duration = Duration::from_secs(120);

/// A running proxy on 127.0.0.1; stops accepting when dropped.
pub struct PageProxy {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl PageProxy {
    /// Listens on a free port of 127.0.0.1 and forwards on its own threads.
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the page proxy")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                if let Ok(client) = client {
                    thread::spawn(move || forward(client));
                }
            }
        });
        Ok(Self { port, stop })
    }

    /// The Chromium flags that send every request, loopback included, here.
    pub fn chromium_args(&self) -> [String; 2] {
        [
            format!("--proxy-server=http://127.0.0.1:{}", self.port),
            // Chromium never proxies loopback unless told to.
            "--proxy-bypass-list=<-loopback>".to_owned(),
        ]
    }
}

impl Drop for PageProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Forwards one request and its answer, then closes both connections.
fn forward(client: TcpStream) {
    let _ = client.set_read_timeout(Some(IDLE));
    let mut answer = match client.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    };
    if let Err(refusal) = relay(client, &mut answer) {
        let _ = write!(
            answer,
            "HTTP/1.1 {refusal}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    let _ = answer.shutdown(Shutdown::Both);
}

/// `Err` carries the status line to answer with when nothing was forwarded.
fn relay(client: TcpStream, answer: &mut TcpStream) -> Result<(), &'static str> {
    let mut from_client = BufReader::new(client);
    let (line, headers) = read_head(&mut from_client).map_err(|_| "400 Bad Request")?;
    let mut parts = line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v)) => (m, t, v),
        _ => return Err("400 Bad Request"),
    };
    let (authority, path) = target
        .strip_prefix("http://")
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")))
        .ok_or("403 Forbidden")?;
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    if !matches!(host, "127.0.0.1" | "localhost") {
        return Err("403 Forbidden");
    }
    let body_len = headers
        .iter()
        .find_map(|h| header_value(h, "content-length"))
        .map_or(Ok(0), str::parse::<u64>)
        .map_err(|_| "400 Bad Request")?;
    let mut upstream = TcpStream::connect(authority).map_err(|_| "502 Bad Gateway")?;
    let _ = upstream.set_read_timeout(Some(IDLE));
    let head = rewrite_head(&format!("{method} /{path} {version}"), &headers);
    upstream
        .write_all(head.as_bytes())
        .and_then(|()| io::copy(&mut (&mut from_client).take(body_len), &mut upstream))
        .map_err(|_| "502 Bad Gateway")?;
    let mut from_upstream = BufReader::new(upstream);
    let (status, headers) = read_head(&mut from_upstream).map_err(|_| "502 Bad Gateway")?;
    // From here on the client has the answer's head: errors only cut it short.
    let _ = answer
        .write_all(rewrite_head(&status, &headers).as_bytes())
        .and_then(|()| io::copy(&mut from_upstream, answer));
    Ok(())
}

/// The start line and header lines of a message, without line ends.
fn read_head(reader: &mut impl BufRead) -> io::Result<(String, Vec<String>)> {
    let mut limited = reader.take(MAX_HEAD);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if limited.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let start = lines.remove(0);
    Ok((start, lines))
}

/// The head again, with the hop-by-hop headers replaced by `Connection: close`.
fn rewrite_head(start: &str, headers: &[String]) -> String {
    let hop_by_hop = ["connection", "proxy-connection", "keep-alive"];
    let mut head = format!("{start}\r\n");
    for header in headers {
        let name = header.split(':').next().unwrap_or_default().trim();
        if !hop_by_hop.iter().any(|hop| name.eq_ignore_ascii_case(hop)) {
            head.push_str(header);
            head.push_str("\r\n");
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// The value of `header` if it is the named one (case-insensitive).
fn header_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let (key, value) = header.split_once(':')?;
    key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `request` through a fresh proxy and returns what came back.
    fn through_proxy(request: &str) -> String {
        let proxy = PageProxy::start().unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        client.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn forwards_one_request_per_upstream_connection_and_closes_both() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = upstream.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let (conn, _) = upstream.accept().unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (line, headers) = read_head(&mut reader).unwrap();
            let mut body = [0u8; 4];
            reader.read_exact(&mut body).unwrap();
            (&conn)
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
                )
                .unwrap();
            (line, headers, body)
        });
        let answer = through_proxy(&format!(
            "POST http://127.0.0.1:{port}/run.js HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Proxy-Connection: keep-alive\r\nContent-Length: 4\r\n\r\nping"
        ));
        let (line, headers, body) = server.join().unwrap();
        assert_eq!(line, "POST /run.js HTTP/1.1");
        assert!(
            headers.contains(&"Connection: close".to_owned()),
            "{headers:?}"
        );
        assert!(!headers.iter().any(|h| h.starts_with("Proxy-Connection")));
        assert_eq!(&body, b"ping");
        assert_eq!(
            answer,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
    }

    #[test]
    fn refuses_targets_off_loopback() {
        let answer = through_proxy("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
        let answer = through_proxy("CONNECT example.com:443 HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    }
}
