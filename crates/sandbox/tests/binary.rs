//! The `conferbot-sandbox` binary as a harness runs it.

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
