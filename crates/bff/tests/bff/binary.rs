//! The `conferbot-bff` binary, run as a user runs it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

fn spawn(args: &[&str]) -> (std::process::Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conferbot-bff"))
        .args(args)
        .env_remove("CONFERBOT_API_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    (child, first, second)
}

fn url_of(line: &str, prefix: &str) -> String {
    line.trim()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
        .to_owned()
}

#[tokio::test]
async fn the_binary_serves_the_embedded_sandbox() {
    let (mut child, first, second) = spawn(&["--sandbox", "--listen", "127.0.0.1:0"]);
    let bff = url_of(&first, "listening on ");
    let sandbox = url_of(&second, "sandbox on ");

    let list = reqwest::get(format!("{bff}/api/conferbot/external/v1/chatbots"))
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&list.text().await.unwrap()).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 20);
    assert_eq!(body["total"], 137);
    assert_eq!(
        reqwest::get(format!("{bff}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let stats = reqwest::get(format!("{sandbox}/sandbox/stats"))
        .await
        .unwrap();
    assert_eq!(stats.status(), 200);

    // SIGTERM: a graceful exit with status 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for(&mut child);
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("EMBEDDED SANDBOX"), "{stderr}");
}

#[tokio::test]
async fn without_a_key_the_binary_says_loudly_it_uses_the_sandbox() {
    let (mut child, first, second) = spawn(&["--listen", "127.0.0.1:0", "--log-format", "json"]);
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        second.starts_with("sandbox on http://127.0.0.1:"),
        "{second}"
    );
    child.kill().unwrap();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("no API key configured"), "{stderr}");
    assert!(stderr.contains("NOT the real Conferbot API"), "{stderr}");
}

fn wait_for(child: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    panic!("the BFF did not exit after SIGTERM");
}

#[test]
fn help_documents_live_events_and_scale_out() {
    let output = Command::new(env!("CARGO_BIN_EXE_conferbot-bff"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--webhook-secret-file",
        "CONFERBOT_WEBHOOK_SECRET",
        "--webhook-path",
        "--webhook-tolerance",
        "--sse-heartbeat",
        "--event-replay",
        "--sandbox-activity",
        "--redis",
        "{mount}/events",
        "Last-Event-ID",
        "degraded",
    ] {
        assert!(
            help.contains(needle),
            "{needle} missing from --help:\n{help}"
        );
    }
}

/// The BFF's stderr read as it is written (so that a full pipe never holds
/// its writer up), until it exits: everything, once it has.
fn drain_stderr(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    })
}

/// Runs the BFF with the embedded sandbox and `RUST_LOG=log`, makes
/// `requests` API reads (20 at a time), stops it with SIGTERM, and answers
/// how many access lines its stderr held, and all of it.
async fn access_lines_after(log: &str, requests: usize) -> (usize, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conferbot-bff"))
        .args([
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .env_remove("CONFERBOT_API_KEY")
        .env("RUST_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain_stderr(&mut child);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let bff = url_of(&first, "listening on ");
    let client = reqwest::Client::new();
    for batch in 0..requests.div_ceil(20) {
        let sent = (batch * 20..requests.min(batch * 20 + 20)).map(|n| {
            client
                .get(format!(
                    "{bff}/api/conferbot/external/v1/chatbots?page={}&limit=5",
                    n % 7 + 1
                ))
                .send()
        });
        for reply in futures_util::future::join_all(sent).await {
            assert_eq!(reply.unwrap().status(), 200);
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(wait_for(&mut child).success());
    let text = stderr.join().unwrap();
    let lines = text
        .lines()
        .filter(|line| line.contains("\"target\":\"conferbot_bff::access\""))
        .count();
    (lines, text)
}

#[tokio::test]
async fn every_request_is_in_the_access_log_when_the_bff_has_exited() {
    // Written by its own thread, batched: none lost, all out before exit.
    let (lines, text) = access_lines_after("info", 400).await;
    assert_eq!(lines, 400, "{text}");
    assert!(text.contains("conferbot-bff serving"), "{text}");
}

#[tokio::test]
async fn the_access_log_turns_off_alone() {
    let (lines, text) = access_lines_after("info,conferbot_bff::access=warn", 40).await;
    assert_eq!(lines, 0, "{text}");
    assert!(text.contains("conferbot-bff serving"), "{text}");
}
