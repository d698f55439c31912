//! The two real binaries on loopback: the backend (built by cargo for these
//! tests) and the local Cloudflare stand-in (built in its own workspace, so
//! found by path), each on a free port with its log in a file.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test binary uses a part
pub use localcf_test_support::{header, uris, Api, CHEAP, LIVE_TIMEOUT};

/// The command that builds the stand-in, for the message when it is missing.
pub const BUILD_LOCALCF: &str = "cargo build --manifest-path localcf/Cargo.toml";

/// A fresh directory under cargo's target tmp dir (earlier runs' ones are removed).
pub fn scratch_dir(name: &str) -> PathBuf {
    localcf_test_support::scratch_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &format!("backend-{name}-"),
    )
}

/// The stand-in binary: `LOCALCF_BIN`, else `<repo>/localcf/target/debug/localcf`.
/// Panics with the build command when it is not there.
pub fn localcf_binary() -> PathBuf {
    let bin = std::env::var_os("LOCALCF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../localcf/target/debug/localcf")
        });
    assert!(
        bin.is_file(),
        "the local Cloudflare stand-in is not built: {} is missing. \
         Build it first with `{BUILD_LOCALCF}` (scripts/test.sh does), \
         or point LOCALCF_BIN at it.",
        bin.display()
    );
    bin
}

/// A running binary. Dropping it kills the process; it also dies with the
/// test process (PR_SET_PDEATHSIG), so a failed run leaves nothing behind.
pub struct Proc {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:<port>` from its READY line.
    pub http: String,
    /// Its stderr (the log).
    pub log: PathBuf,
    _stdout: ChildStdout,
}

impl Proc {
    /// Spawns `cmd` (environment cleared but for PATH and `envs`) with its
    /// stderr in `log`, and waits for its READY line.
    fn spawn(mut cmd: Command, envs: &[(&str, &str)], log: PathBuf) -> Proc {
        let file = std::fs::File::create(&log).expect("log file");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file);
        // SAFETY: prctl is async-signal-safe and nothing is allocated.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn");
        let pid = child.id();
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let http = parse_ready(&line).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no READY line (got {line:?}); log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        Proc {
            child,
            pid,
            http,
            log,
            _stdout: reader.into_inner(),
        }
    }

    pub fn api(&self) -> Api {
        Api::new(&self.http)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.http
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit; its exit code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `http=` address of `READY http=http://127.0.0.1:<port>[ rtmp=...]`.
pub fn parse_ready(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_prefix("READY http=")?;
    let http = rest.split(' ').next()?;
    http.starts_with("http://127.0.0.1:")
        .then(|| http.to_string())
}

/// A dist/ with an index.html and the moderator page's, as the binaries
/// serve the built pages from it.
fn dist_in(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    std::fs::create_dir_all(dist.join("moderator")).expect("dist");
    std::fs::write(
        dist.join("index.html"),
        // With the loader's opening tag, before which the backend writes
        // lifecycle's answer (backend/src/watch_page.rs).
        "<!doctype html><title>player</title><script id=\"jlp-loader\">/* loader */</script>",
    )
    .expect("index.html");
    std::fs::write(
        dist.join("moderator/index.html"),
        "<!doctype html><title>moderator</title>",
    )
    .expect("moderator/index.html");
    // A script with the copies scripts/precompress.mjs writes (stand-in
    // bytes: the tests check which one is served, not the codec).
    for (name, body) in [
        ("player.js", "/* identity */"),
        ("player.js.br", "/* brotli */"),
        ("player.js.gz", "/* gzip */"),
    ] {
        std::fs::write(dist.join(name), body).expect(name);
    }
    dist
}

/// Starts the backend on a free loopback port with `args` and `envs`.
pub fn backend(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    let (cmd, log) = backend_command(name, args);
    Proc::spawn(cmd, envs, log)
}

/// [`backend`] with its open-file limit (soft and hard) set to `nofile`.
pub fn backend_with_nofile(name: &str, args: &[&str], envs: &[(&str, &str)], nofile: u64) -> Proc {
    let (mut cmd, log) = backend_command(name, args);
    // SAFETY: setrlimit is async-signal-safe and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: nofile as libc::rlim_t,
                rlim_max: nofile as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Proc::spawn(cmd, envs, log)
}

fn backend_command(name: &str, args: &[&str]) -> (Command, PathBuf) {
    let dir = scratch_dir(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    // Its own data dir: the viewing figures' SQLite file is per backend.
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--dist"])
        .arg(dist_in(&dir))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args);
    (cmd, dir.join("backend.log"))
}

/// How to start the stand-in.
pub struct StandInOptions<'a> {
    /// The token its account API accepts (given as CF_API_TOKEN).
    pub token: &'a str,
    /// Its data dir (a fresh one when `None`).
    pub data_dir: Option<&'a Path>,
    /// Its HTTP port (a free one when 0).
    pub port: u16,
    pub args: &'a [&'a str],
}

/// A running stand-in and its data dir.
pub struct StandIn {
    pub proc: Proc,
    pub data_dir: PathBuf,
}

impl StandIn {
    /// The account API base the backend is pointed at.
    pub fn api_base(&self) -> String {
        format!("{}/client/v4", self.proc.http)
    }
}

/// Starts the real stand-in (`localcf`) with cheap encodes and no RTMP
/// (unless `args` has `--rtmp-port`).
pub fn stand_in(name: &str, o: StandInOptions) -> StandIn {
    let bin = localcf_binary();
    let dir = scratch_dir(name);
    let data_dir = o
        .data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("data"));
    let mut cmd = Command::new(bin);
    cmd.args(["--host", "127.0.0.1"]);
    // No RTMP unless the test names a port for it (go-live needs an ingest URL).
    if !o.args.contains(&"--rtmp-port") {
        cmd.arg("--no-rtmp");
    }
    cmd.arg("--port")
        .arg(o.port.to_string())
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--dist")
        .arg(dist_in(&dir))
        .args(CHEAP)
        .args(o.args);
    let proc = Proc::spawn(
        cmd,
        &[("CF_API_TOKEN", o.token), ("RUST_LOG", "debug")],
        dir.join("localcf.log"),
    );
    StandIn { proc, data_dir }
}

/// Everything a test saw over HTTP (headers and bodies), to look for the
/// token in.
#[derive(Default)]
pub struct Seen(std::sync::Mutex<String>);

impl Seen {
    fn add_headers(&self, headers: &reqwest::header::HeaderMap) {
        let mut s = self.0.lock().unwrap();
        for (k, v) in headers {
            s.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
    }

    fn add_body(&self, b: &str) {
        self.0.lock().unwrap().push_str(b);
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// GET with extra headers, everything received recorded in `seen`; the
/// status, headers and body.
pub async fn fetch(
    api: &Api,
    seen: &Seen,
    path: &str,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = api.client.get(api.url(path));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    seen.add_headers(&headers);
    let body = r.text().await.unwrap_or_default();
    seen.add_body(&body);
    (status, headers, body)
}

/// A header's value, or "" when absent.
pub fn h(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A free loopback port below the kernel's ephemeral range, for a server
/// that restarts on the same port: no client socket is ever given one of
/// these as its local port, so it stays free across the restart.
pub fn steady_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let span = u32::from(low.saturating_sub(20000)).max(1);
    // Start somewhere that depends on the process and the call, then walk.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = (std::process::id().wrapping_mul(31).wrapping_add(call * 101)) % span;
    (0..span)
        .map(|i| 20000 + ((start + i * 7919) % span) as u16)
        .find(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port below the ephemeral range")
}
