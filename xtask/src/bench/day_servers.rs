//! The servers of section 11, one set per configuration: a sandbox of its
//! own (so its counters are the configuration's alone) delivering signed
//! webhooks, and in front of it either a BFF serving the dashboard, or nginx
//! serving the same files with `proxy_cache` for the API and a BFF that only
//! receives the webhooks and streams them (nginx cannot).

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::servers::{free_local_addr, http_get, Server, UNLIMITED_RATE};
use crate::process::output;

/// The workspace's key: Starter, whose 10,000 calls a month the section
/// extrapolates against.
pub const STARTER_KEY: &str = "sandbox-starter-key";
/// The webhook secret the sandbox signs with and the BFFs verify.
const SECRET: &str = "whsec_bench_day";

/// What sits in front of the sandbox.
pub enum Front {
    /// The BFF serving the dashboard, with these extra flags.
    Bff(&'static [&'static str]),
    /// nginx with `proxy_cache` valid this long (`2s`), and a hub BFF for events.
    Nginx(&'static str),
}

/// A running configuration: where the dashboard is, and the sandbox.
pub struct Running {
    /// The dashboard's origin.
    pub origin: String,
    /// The sandbox's origin.
    pub sandbox: String,
    /// Every process, ended when dropped.
    _servers: Vec<Server>,
}

/// Starts a sandbox and `front` as `name`, the dashboard from `www` and `pkg`.
pub fn start(
    name: &str,
    front: &Front,
    bins: (&Path, &Path),
    dirs: (&Path, &Path),
    work: &Path,
    logs: &Path,
) -> Result<Running> {
    let (bff_bin, sandbox_bin) = bins;
    let (www, pkg) = dirs;
    let mut cmd = Command::new(sandbox_bin);
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--rate",
        UNLIMITED_RATE,
        "--webhook-secret",
        SECRET,
    ]);
    let sandbox = Server::start_announced(&format!("{name}-sandbox"), cmd, logs)?;
    let upstream = format!("{}/api/v1", sandbox.origin());
    let bff = |label: &str, extra: &[&str], static_dirs: bool| -> Result<Server> {
        let mut cmd = Command::new(bff_bin);
        cmd.env("CONFERBOT_API_KEY", STARTER_KEY)
            .env("CONFERBOT_WEBHOOK_SECRET", SECRET)
            .env_remove("CONFERBOT_REDIS_URL")
            .env_remove("CONFERBOT_MONTHLY_BUDGET")
            .arg("--upstream")
            .arg(&upstream)
            .args(["--listen", "127.0.0.1:0", "--rate", UNLIMITED_RATE])
            .args(extra);
        if static_dirs {
            cmd.arg("--www").arg(www).arg("--pkg").arg(pkg);
        }
        Server::start_announced(&format!("{name}-{label}"), cmd, logs)
    };
    let (origin, receiver, servers) = match front {
        Front::Bff(flags) => {
            let bff = bff("bff", flags, true)?;
            let origin = bff.origin();
            (origin.clone(), origin, vec![sandbox, bff])
        }
        Front::Nginx(ttl) => {
            let hub = bff("hub", &["--cache-ttl", "0"], false)?;
            let bin = super::nginx::ensure()?;
            let listen = free_local_addr()?;
            let dir = work.join("nginx").join(name);
            if dir.exists() {
                fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
            }
            fs::create_dir_all(dir.join("tmp"))?;
            let dir = dir.canonicalize()?;
            let conf = dir.join("nginx.conf");
            let text = config(&dir, listen, sandbox.addr, hub.addr, www, pkg, ttl)?;
            fs::write(&conf, text).with_context(|| format!("writing {}", conf.display()))?;
            let mut cmd = Command::new(bin);
            cmd.arg("-p")
                .arg(&dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&conf);
            let nginx = Server::start_silent(&format!("{name}-nginx"), cmd, listen, logs)?;
            (
                format!("http://{listen}"),
                hub.origin(),
                vec![sandbox, hub, nginx],
            )
        }
    };
    // The workspace's webhook, to the receiver (a call before the trace).
    let body = serde_json::json!({
        "url": format!("{receiver}/api/conferbot/webhooks/incoming"),
        "events": ["response.created", "response.updated", "conversation.started", "conversation.completed"],
    });
    let sandbox_origin = servers[0].origin();
    let created = post_json(
        servers[0].addr,
        "/api/v1/external/v1/webhooks",
        &body.to_string(),
    )?;
    if !created.starts_with("201") {
        bail!("{name}: the sandbox did not register the webhook: {created}");
    }
    let (status, _) = http_get(
        origin.trim_start_matches("http://").parse::<SocketAddr>()?,
        "/",
        &[],
    )?;
    if status != 200 {
        bail!("{name}: the dashboard is not served at / ({status})");
    }
    Ok(Running {
        origin,
        sandbox: sandbox_origin,
        _servers: servers,
    })
}

/// POSTs JSON with the Starter key; the status line and body.
fn post_json(addr: SocketAddr, path: &str, body: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nx-api-key: {STARTER_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    Ok(raw
        .split_once(' ')
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(raw))
}

/// nginx: the files at `/` and `/pkg/`, the API from the sandbox through
/// `proxy_cache` (valid `ttl`, with the lock that coalesces misses), the
/// event stream and the webhook receiver from the hub, unbuffered, uncached,
/// over HTTP/1.1, with the browser's `Host` passed on (nginx would send the
/// upstream block's name, `hub`, which the hub refuses as DNS rebinding
/// protection: the stream never opened, and no dashboard went live).
fn config(
    dir: &Path,
    listen: SocketAddr,
    sandbox: SocketAddr,
    hub: SocketAddr,
    www: &Path,
    pkg: &Path,
    ttl: &str,
) -> Result<String> {
    let (dir, www, pkg) = (dir.display(), www.canonicalize()?, pkg.canonicalize()?);
    let (www, pkg) = (www.display(), pkg.display());
    // As root, workers would switch to `nobody`, which cannot write the cache under target/.
    let user = if output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0") {
        "user root;"
    } else {
        ""
    };
    Ok(format!(
        "# Generated by `cargo xtask bench --only day`: nginx in front of the dashboard.
{user}
daemon off;
master_process on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{ text/html html; text/css css; application/javascript js mjs; application/wasm wasm; application/json json; }}
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=day:10m max_size=64m inactive=60s use_temp_path=off;
    upstream sandbox {{ server {sandbox}; keepalive 32; }}
    upstream hub {{ server {hub}; keepalive 32; }}
    server {{
        listen {listen};
        location / {{ root {www}; index index.html; }}
        location /pkg/ {{ alias {pkg}/; }}
        location /api/conferbot/events {{
            proxy_pass http://hub;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
        }}
        location /api/conferbot/webhooks/ {{
            proxy_pass http://hub;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }}
        location /api/conferbot/external/ {{
            proxy_pass http://sandbox/api/v1/external/;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header x-api-key \"{STARTER_KEY}\";
            proxy_cache day;
            proxy_cache_valid 200 {ttl};
            proxy_cache_lock on;
            add_header x-cache $upstream_cache_status;
        }}
    }}
}}
"
    ))
}
