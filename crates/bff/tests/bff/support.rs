//! Starting a sandbox and a BFF in front of it, talking to both, and
//! capturing every log line of the test binary.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use conferbot_bff::{serve, ApiKey, BffConfig, ServeError};
use conferbot_policy::refresh_budget::RefreshBudget;
use conferbot_sandbox::{keys, RunningSandbox, SandboxConfig, SandboxStats};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const API: &str = "/api/conferbot/external/v1";
pub const CSRF: (&str, &str) = ("x-conferbot-csrf", "1");

/// A generous rate, so that tests that are not about shaping never wait.
pub fn fast_rate() -> conferbot::RateSpec {
    "1000/1s".parse().unwrap()
}

/// A sandbox config with a generous rate.
pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        rate: fast_rate(),
        ..SandboxConfig::default()
    }
}

/// A sandbox and a BFF in front of it.
pub struct Harness {
    pub sandbox: RunningSandbox,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Harness {
    /// Default sandbox and BFF (fast rates), the BFF using the Starter key.
    pub async fn start() -> Self {
        Self::with(sandbox_config(), |_| {}).await
    }

    /// A sandbox with `sandbox`, and a BFF with its config adjusted by `tweak`.
    pub async fn with(sandbox: SandboxConfig, tweak: impl FnOnce(&mut BffConfig)) -> Self {
        init_logs();
        let sandbox = RunningSandbox::start(sandbox, localhost(0)).await.unwrap();
        let mut config = BffConfig::new(ApiKey::new(keys::STARTER).unwrap());
        config.settings.upstream = sandbox.base_url();
        config.settings.rate = fast_rate();
        // Tests of other mechanisms count upstream calls exactly; the refresh
        // budget learns the plan first (one getUsage), so it is on only in
        // the tests about it (refresh_budget.rs, events_applied.rs).
        config.settings.refresh_budget = RefreshBudget::Off;
        tweak(&mut config);
        let (addr, stop, task) = start_bff(config).await;
        Self {
            sandbox,
            addr,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://ADDR/api/conferbot/external/v1{path}`.
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("{API}{path}"))
    }

    pub async fn get(&self, path: impl AsRef<str>) -> Reply {
        let url = self.api(path.as_ref());
        Reply::of(self.client.get(url).send().await.unwrap()).await
    }

    pub async fn post_webhook(&self, url: &str) -> Reply {
        let body = serde_json::json!({"url": url, "events": ["response.created"]});
        let response = self
            .client
            .post(self.api("/webhooks"))
            .header(CSRF.0, CSRF.1)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        Reply::of(response).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        let response = self
            .client
            .delete(self.api(path))
            .header(CSRF.0, CSRF.1)
            .send()
            .await
            .unwrap();
        Reply::of(response).await
    }

    pub fn stats(&self) -> SandboxStats {
        self.sandbox.stats()
    }

    /// Arms a sandbox fault through its admin route.
    pub async fn fault(&self, spec: Value) {
        let response = self
            .client
            .post(format!("{}/faults", self.sandbox.admin_url()))
            .header("content-type", "application/json")
            .body(spec.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// Triggers graceful shutdown and waits for the server to return.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Triggers graceful shutdown without waiting.
    pub fn begin_shutdown(&mut self) -> JoinHandle<Result<(), ServeError>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap()
    }
}

pub fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Serves `config` on a free port until the returned sender fires.
pub async fn start_bff(
    config: BffConfig,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<Result<(), ServeError>>,
) {
    init_logs();
    let listener = TcpListener::bind(localhost(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(config, listener, async move {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Self {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Everything a browser could see, as text.
    pub fn dump(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for (name, value) in &self.headers {
            out.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        out.push_str(&self.text);
        out
    }
}

/// Sends `head` (request line and headers, without the final blank line)
/// as raw bytes, so that nothing normalizes the path on the way, and returns
/// the status and the whole raw answer.
pub async fn raw(addr: SocketAddr, head: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (status, answer)
}

/// `method path` with exactly `headers` (a `Host` among them, or none) and
/// `body`, raw, so that nothing rewrites the Host or the Origin.
pub async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut head = format!("{method} {path} HTTP/1.1");
    for (name, value) in headers {
        head.push_str(&format!("\r\n{name}: {value}"));
    }
    if !body.is_empty() {
        head.push_str(&format!("\r\ncontent-length: {}", body.len()));
    }
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}\r\nConnection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (status, answer)
}

/// `GET {path}` with a Host header, raw.
pub async fn raw_get(addr: SocketAddr, method: &str, path: &[u8]) -> (u16, String) {
    let mut head = format!("{method} ").into_bytes();
    head.extend_from_slice(path);
    head.extend_from_slice(format!(" HTTP/1.1\r\nHost: {addr}").as_bytes());
    raw(addr, &head).await
}

/// Every log line written by any test of this binary so far.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One global subscriber for the test binary: every log line, at debug level
/// (trace for the BFF itself), into the shared buffer.
pub fn init_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let writer = SharedWriter(Arc::clone(log_buffer()));
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,conferbot_bff=trace")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
    });
}
