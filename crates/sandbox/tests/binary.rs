//! The `conferbot-sandbox` binary as a harness runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_conferbot-sandbox");

#[tokio::test]
async fn prints_the_bound_address_first_serves_and_exits_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--chatbots", "3", "--seed", "9"])
        .args(["--key", "team-key=business", "--rate", "20/2s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {line:?}"));
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    assert_ne!(addr.port(), 0);

    let page: serde_json::Value = serde_json::from_str(
        &reqwest::Client::new()
            .get(format!("http://{addr}/api/v1/external/v1/chatbots"))
            .header("x-api-key", "team-key")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(page["total"], 3);

    #[cfg(unix)]
    {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}");
    }
    #[cfg(not(unix))]
    child.kill().unwrap();
}

#[test]
fn help_lists_the_built_in_keys_and_bad_flags_fail() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for key in [
        conferbot_sandbox::keys::FREE,
        conferbot_sandbox::keys::STARTER,
        conferbot_sandbox::keys::PRO,
        conferbot_sandbox::keys::BUSINESS,
        conferbot_sandbox::keys::ENTERPRISE,
    ] {
        assert!(text.contains(key), "{key} missing from --help");
    }
    for bad in [
        ["--key", "k=Growth"],
        ["--rate", "0/1s"],
        ["--fault", "explode:1"],
    ] {
        let out = Command::new(BIN).args(bad).output().unwrap();
        assert!(!out.status.success(), "{bad:?}");
    }
}

#[tokio::test]
async fn with_tls_it_writes_its_ca_first_and_serves_https_clients_can_verify() {
    let ca_path =
        std::env::temp_dir().join(format!("conferbot-sandbox-ca-{}.pem", std::process::id()));
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--chatbots",
            "3",
            "--tls",
            "--tls-ca-out",
        ])
        .arg(&ca_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    // Written before the line: a harness may read it at once.
    let pem = std::fs::read(&ca_path).unwrap();
    let _ = std::fs::remove_file(&ca_path);
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    // The certificate names localhost and 127.0.0.1 alike.
    let port = addr.rsplit_once(':').unwrap().1;
    for origin in [
        format!("https://{addr}"),
        format!("https://localhost:{port}"),
    ] {
        let answer = trusting
            .get(format!("{origin}/api/v1/external/v1/chatbots"))
            .header("x-api-key", conferbot_sandbox::keys::STARTER)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{origin}");
    }
    // A client that does not trust the CA is refused, and plain HTTP gets no answer.
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .get(format!("https://{addr}/sandbox/stats"))
        .send()
        .await
        .is_err());
    let plain = untrusting
        .get(format!("http://{addr}/sandbox/stats"))
        .send()
        .await;
    assert!(plain.map_or(true, |r| !r.status().is_success()));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_ca_file_flag_needs_tls() {
    let out = Command::new(BIN)
        .args(["--tls-ca-out", "/tmp/never-written.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls"));
}
