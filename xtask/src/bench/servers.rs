//! Starting and stopping the processes a benchmark drives: the sandbox, the
//! BFF and nginx. Each is a [`Server`] whose `Drop` ends it (and nginx's
//! workers), so every child is gone when a section ends, also on error.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::process::output;

/// The key the sandbox gives the Enterprise plan: no monthly quota, so load
/// runs never hit the Starter plan's 10,000 calls.
pub const ENTERPRISE_KEY: &str = "sandbox-enterprise-key";

/// A rate limit no benchmark reaches, for sandbox and BFF alike.
pub const UNLIMITED_RATE: &str = "1000000/1s";

/// How long a server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running child process, ended with its process group when dropped.
pub struct Server {
    name: String,
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http` or `https`, as it announced.
    pub scheme: &'static str,
}

impl Server {
    /// Starts `cmd` and waits for the first stdout line `listening on http://ADDR`
    /// (or `https://ADDR`).
    /// Its stderr goes to `logs/<name>.log`, so a failure can be read afterwards.
    pub fn start_announced(name: &str, cmd: Command, logs: &Path) -> Result<Server> {
        let mut cmd = prepare(cmd, name, logs)?;
        cmd.stdout(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("could not start {name} ({})", describe(&cmd)))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("{name}: no stdout"))?;
        let (tx, rx) = mpsc::channel();
        // One reader thread for the life of the child: it reports the address
        // line, then keeps draining stdout so the child never blocks on a full pipe.
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                let announced = line.trim().strip_prefix("listening on ");
                let split = announced.and_then(|url| url.split_once("://"));
                if let Some((scheme, rest)) = split {
                    let scheme = if scheme == "https" { "https" } else { "http" };
                    let _ = tx.send((scheme, rest.trim_end_matches('/').to_owned()));
                }
                line.clear();
            }
        });
        let mut server = Server {
            name: name.to_owned(),
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            scheme: "http",
        };
        let (scheme, announced) = rx.recv_timeout(START_TIMEOUT).map_err(|_| {
            anyhow!(
                "{name} did not print `listening on http://ADDR` within {START_TIMEOUT:?} (log: {})",
                logs.join(format!("{name}.log")).display()
            )
        })?;
        server.addr = announced.parse().with_context(|| {
            format!("{name} announced an address that is not IP:port: {announced:?}")
        })?;
        server.scheme = scheme;
        Ok(server)
    }

    /// Starts `cmd`, which listens on `addr` without saying so (nginx), and
    /// waits until `addr` accepts connections.
    pub fn start_silent(name: &str, cmd: Command, addr: SocketAddr, logs: &Path) -> Result<Server> {
        let mut cmd = prepare(cmd, name, logs)?;
        cmd.stdout(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {name} ({})", describe(&cmd)))?;
        let mut server = Server {
            name: name.to_owned(),
            child,
            addr,
            scheme: "http",
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!(
                    "{name} exited at start ({status}); log: {}",
                    logs.join(format!("{name}.log")).display()
                );
            }
            if Instant::now() > deadline {
                bail!("{name} did not accept connections on {addr} within {START_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// Waits until `addr` accepts connections (a second port of a started server).
    pub fn wait_accepting(addr: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                bail!("nothing accepted connections on {addr} within {START_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://ADDR` (`https://ADDR` for a TLS server).
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // TERM first: nginx's master then stops its workers and removes its pid
        // file. The children stay in our process group, so a Ctrl-C reaches
        // them too.
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "    {} did not stop on SIGTERM; killing it and its children",
            self.name
        );
        for child in children(pid) {
            let _ = Command::new("kill")
                .args(["-KILL", &child.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds spent so far by a process and its live children, split as
/// `/proc/PID/stat` splits them.
#[derive(Debug, Clone, Copy)]
pub struct CpuTime {
    /// In user space: the server's own work.
    pub user: f64,
    /// In the kernel on its behalf: mostly its sockets.
    pub system: f64,
}

impl CpuTime {
    /// User and system together.
    pub fn total(self) -> f64 {
        self.user + self.system
    }
}

impl std::ops::Sub for CpuTime {
    type Output = CpuTime;

    fn sub(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }
}

/// CPU seconds (user + system) spent so far by `pid` and its live children.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    cpu_time(pid).map(CpuTime::total)
}

/// CPU time spent so far by `pid` and its live children, user and system
/// apart.
pub fn cpu_time(pid: u32) -> Result<CpuTime> {
    let ticks_per_second: f64 = output(Command::new("getconf").arg("CLK_TCK"))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(100.0);
    let ticks = |pid: u32| -> Result<(u64, u64)> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // After "pid (comm)": state is field 3, utime 14 and stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i - 3)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok((field(14), field(15)))
    };
    let (mut user, mut system) = ticks(pid)?;
    for child in children(pid) {
        let (u, s) = ticks(child).unwrap_or((0, 0));
        user += u;
        system += s;
    }
    Ok(CpuTime {
        user: user as f64 / ticks_per_second,
        system: system as f64 / ticks_per_second,
    })
}

/// Processes whose parent is `pid` (nginx's workers).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            // /proc/PID/stat: "pid (comm) state ppid …"; comm may contain spaces.
            fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                })
                == Some(pid)
        })
        .collect()
}

/// Common set-up of a child: raised open-file limit (for 1,000 connections),
/// quiet logs, stderr to a log file.
fn prepare(cmd: Command, name: &str, logs: &Path) -> Result<Command> {
    fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
    let log_path = logs.join(format!("{name}.log"));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut wrapped = with_raised_fd_limit(&cmd);
    wrapped
        .stdin(Stdio::null())
        .stderr(log)
        .env("RUST_LOG", "warn");
    Ok(wrapped)
}

/// `cmd`, run through `sh` with the soft open-file limit raised to the hard one.
pub fn with_raised_fd_limit(cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@""#)
        .arg("sh");
    sh.arg(cmd.get_program()).args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh
}

/// A free port on 127.0.0.1 (for nginx, which cannot report one it chose).
pub fn free_local_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?)
}

/// The sandbox, seeded with `chatbots` chatbots and no effective rate limit.
pub fn start_sandbox(bin: &Path, chatbots: usize, logs: &Path) -> Result<Server> {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--rate",
        UNLIMITED_RATE,
        "--chatbots",
    ])
    .arg(chatbots.to_string());
    Server::start_announced("sandbox", cmd, logs)
}

/// The sandbox as [`start_sandbox`] makes it, over HTTPS (`--tls`) with a
/// CA generated at start and written to `ca` (for the BFF's `--upstream-ca`
/// and nginx's `proxy_ssl_trusted_certificate`).
pub fn start_sandbox_tls(bin: &Path, chatbots: usize, logs: &Path, ca: &Path) -> Result<Server> {
    let mut cmd = Command::new(bin);
    cmd.args(["--listen", "127.0.0.1:0", "--rate", UNLIMITED_RATE, "--tls"])
        .arg("--tls-ca-out")
        .arg(ca)
        .arg("--chatbots")
        .arg(chatbots.to_string());
    Server::start_announced("sandbox-tls", cmd, logs)
}

/// How a BFF is started for a benchmark.
pub struct BffOptions<'a> {
    /// Log file name.
    pub name: &'a str,
    /// `--cache-ttl` (`None`: the BFF's default).
    pub cache_ttl: Option<&'a str>,
    /// `--rate` (`None`: the BFF's default).
    pub rate: Option<&'a str>,
    /// `--www` and `--pkg`, to serve pages too.
    pub static_dirs: Option<(PathBuf, PathBuf)>,
}

/// A BFF forwarding to `sandbox` with the Enterprise key.
pub fn start_bff(
    bin: &Path,
    sandbox: &Server,
    options: &BffOptions,
    logs: &Path,
) -> Result<Server> {
    Server::start_announced(options.name, bff_command(bin, sandbox, options), logs)
}

/// The command [`start_bff`] runs, for a caller that adds flags or environment
/// (`--redis`, a webhook secret) before [`Server::start_announced`].
pub fn bff_command(bin: &Path, sandbox: &Server, options: &BffOptions) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("CONFERBOT_API_KEY", ENTERPRISE_KEY)
        .arg("--upstream")
        .arg(format!("{}/api/v1", sandbox.origin()))
        .args(["--listen", "127.0.0.1:0", "--queue-wait", "10s"])
        // Every load of these sections comes from one address (127.0.0.1),
        // and up to 1,000 connections or streams: the per-address caps are
        // not what they measure (sections 11 and 12 are).
        .args([
            "--max-connections-per-ip",
            "16384",
            "--max-sse-streams-per-ip",
            "10000",
        ]);
    if let Some(ttl) = options.cache_ttl {
        cmd.args(["--cache-ttl", ttl]);
    }
    if let Some(rate) = options.rate {
        cmd.args(["--rate", rate]);
    }
    if let Some((www, pkg)) = &options.static_dirs {
        cmd.arg("--www").arg(www).arg("--pkg").arg(pkg);
    }
    cmd
}

/// One `GET` over a fresh connection: the status and the body (de-chunked).
pub fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to GET {path}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("GET {path}: no HTTP header end"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("GET {path}: no status in {head:?}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Fails unless `GET path` on `addr` answers 200: a benchmark of errors is no benchmark.
pub fn expect_ok(addr: SocketAddr, path: &str, headers: &[(&str, &str)], what: &str) -> Result<()> {
    let (status, body) = http_get(addr, path, headers)?;
    if status != 200 {
        let excerpt: String = body.chars().take(200).collect();
        bail!("{what}: GET {path} answered {status}, not 200: {excerpt}");
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Work done in user space shows as user time, and the two parts add up
    /// to what `cpu_seconds` reads.
    #[test]
    fn cpu_time_splits_user_from_system() {
        let me = std::process::id();
        let before = cpu_time(me).unwrap();
        let started = Instant::now();
        let mut x: u64 = 1;
        while started.elapsed() < Duration::from_millis(300) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let spent = cpu_time(me).unwrap() - before;
        assert!(spent.user >= 0.1, "300 ms of arithmetic read as {spent:?}");
        let total = cpu_seconds(me).unwrap();
        let now = cpu_time(me).unwrap().total();
        assert!((now - total).abs() < 0.1, "{now} against {total}");
    }
}
