//! `--www` at `/` and `--pkg` at `/pkg/`, for the demo.

use std::path::PathBuf;

use crate::support::{raw_get, sandbox_config, Harness};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conferbot-bff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_the_dashboard_and_the_package_without_leaving_their_directories() {
    let www = temp_dir("www");
    let pkg = temp_dir("pkg");
    std::fs::write(www.join("index.html"), "<h1>dashboard</h1>").unwrap();
    std::fs::write(pkg.join("conferbot.js"), "export {};").unwrap();
    std::fs::write(pkg.join("conferbot_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let (w, p) = (www.clone(), pkg.clone());
    let h = Harness::with(sandbox_config(), move |c| {
        c.www = Some(w);
        c.pkg = Some(p);
    })
    .await;

    let index = h.client.get(h.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.unwrap(), "<h1>dashboard</h1>");
    let js = h
        .client
        .get(h.url("/pkg/conferbot.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let wasm = h
        .client
        .get(h.url("/pkg/conferbot_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.headers()["content-type"], "application/wasm");

    for escape in [
        &b"/pkg/../index.html"[..],
        b"/pkg/%2e%2e/index.html",
        b"/../../etc/passwd",
    ] {
        let (status, answer) = raw_get(h.addr, "GET", escape).await;
        assert!(status == 404 || status == 400, "{answer}");
        assert!(!answer.contains("dashboard"), "{answer}");
    }
    // The API still answers under the mount.
    assert_eq!(h.get("/usage").await.status, 200);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(www);
    let _ = std::fs::remove_dir_all(pkg);
}
