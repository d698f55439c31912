//! Test harness: starts the real `localcf` binary on free ports with a fresh
//! data dir and cheap encodes, and talks to it over loopback.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test binary uses a part
pub use localcf_test_support::{header, uris, Api, CHEAP, LIVE_TIMEOUT};
use serde_json::Value;

/// A running server. Dropping it kills the process (its ffmpeg children die
/// with it: they are tied to it by PR_SET_PDEATHSIG).
pub struct Server {
    pub child: Option<Child>,
    pub pid: u32,
    pub http: String,
    /// `rtmp://127.0.0.1:<port>`, or None with `--no-rtmp`.
    pub rtmp: Option<String>,
    pub data_dir: PathBuf,
    pub dist: PathBuf,
    /// The server's stderr (its log).
    pub log: PathBuf,
    /// Keeps the stdout pipe open.
    _stdout: Option<std::process::ChildStdout>,
}

/// A fresh directory under cargo's target tmp dir (earlier runs' ones are removed).
pub fn scratch_dir(name: &str) -> PathBuf {
    localcf_test_support::scratch_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &format!("server-{name}-"),
    )
}

/// Spawns the server; `death_signal` goes to it when the spawning thread ends.
fn spawn(name: &str, args: &[&str], envs: &[(&str, &str)], death_signal: i32) -> Server {
    let root = scratch_dir(name);
    // A test may bring its own data dir (e.g. an earlier server's).
    let data_dir = match args.iter().position(|a| *a == "--data-dir") {
        Some(i) => PathBuf::from(args[i + 1]),
        None => root.join("data"),
    };
    let own_data_dir = !args.contains(&"--data-dir");
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>player</title>",
    )
    .expect("index.html");
    let log_path = root.join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_localcf"));
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--rtmp-port", "0"]);
    if own_data_dir {
        cmd.arg("--data-dir").arg(&data_dir);
    }
    cmd.arg("--dist")
        .arg(&dist)
        .args(args)
        .env("RUST_LOG", "info,localcf=debug")
        // A token in the caller's environment must not open the account API
        // of a test that gave none.
        .env_remove("CF_API_TOKEN")
        .env_remove("CF_API_TOKEN_FILE")
        // Test broadcasts are small; a nearly full disk still takes them.
        .env("MIN_FREE_DISK_MB", "64")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    // SAFETY: prctl is async-signal-safe and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, death_signal as libc::c_ulong);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn server");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("READY line");
    let (http, rtmp) = parse_ready(&line)
        .unwrap_or_else(|| panic!("bad READY line {line:?}; log in {}", root.display()));
    Server {
        child: Some(child),
        pid,
        http,
        rtmp,
        data_dir,
        dist,
        log: log_path,
        _stdout: Some(reader.into_inner()),
    }
}

/// `READY http=http://127.0.0.1:<port> rtmp=rtmp://127.0.0.1:<port>|none`.
pub fn parse_ready(line: &str) -> Option<(String, Option<String>)> {
    let rest = line.trim_end_matches('\n').strip_prefix("READY http=")?;
    let (http, rtmp) = rest.split_once(" rtmp=")?;
    if !http.starts_with("http://127.0.0.1:") {
        return None;
    }
    let rtmp = match rtmp {
        "none" => None,
        r if r.starts_with("rtmp://127.0.0.1:") => Some(r.to_string()),
        _ => return None,
    };
    Some((http.to_string(), rtmp))
}

impl Server {
    /// A server owned by one test (killed when dropped or when the test's
    /// thread ends).
    pub fn start(name: &str, args: &[&str]) -> Server {
        spawn(name, args, &[], libc::SIGKILL)
    }

    pub fn start_with_env(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Server {
        spawn(name, args, envs, libc::SIGKILL)
    }

    /// One server shared by every test of a binary: spawned from a thread
    /// that lives as long as the test process, so that it gets SIGTERM (and
    /// shuts down cleanly) when the tests are over.
    pub fn shared(name: &'static str, args: &'static [&'static str]) -> SharedServer {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s = spawn(name, args, &[], libc::SIGTERM);
            let _child = s.child.take();
            let _stdout = s._stdout.take();
            let _ = tx.send(SharedServer {
                pid: s.pid,
                http: s.http.clone(),
                rtmp: s.rtmp.clone(),
                data_dir: s.data_dir.clone(),
                log: s.log.clone(),
            });
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("shared server")
    }

    pub fn api(&self) -> Api {
        Api::new(&self.http)
    }

    /// Sends `sig` to the server.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid as libc::pid_t, sig);
        }
    }

    /// Waits for the server to exit; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let child = self.child.as_mut()?;
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[derive(Clone)]
pub struct SharedServer {
    pub pid: u32,
    pub http: String,
    pub rtmp: Option<String>,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl SharedServer {
    pub fn api(&self) -> Api {
        Api::new(&self.http)
    }
}

/// Codec types and names ffprobe finds in a file, e.g. `["video:h264", "audio:aac"]`.
pub fn ffprobe(path: &Path) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let mut streams: Vec<String> = v["streams"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    format!(
                        "{}:{}",
                        s["codec_type"].as_str().unwrap_or("?"),
                        s["codec_name"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    streams.sort();
    streams.dedup();
    streams
}

/// Downloads `path` into `dir/name` and returns the file path.
pub async fn download(api: &Api, path: &str, dir: &Path, name: &str) -> PathBuf {
    let r = api.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    let bytes = r.bytes().await.expect("bytes");
    let file = dir.join(name);
    std::fs::write(&file, &bytes).expect("write");
    file
}

/// Live processes whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some((ppid, state)) = stat(p) {
            if ppid == pid && state != 'Z' {
                out.push(p);
            }
        }
    }
    out
}

/// (parent pid, state) from /proc/<pid>/stat.
pub fn stat(pid: u32) -> Option<(u32, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, s)| s != 'Z')
}

/// The working directory of `pid` (ffmpeg runs in its broadcast's directory).
pub fn cwd(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// The ffmpeg child of `server` writing `video_uid`.
pub fn ffmpeg_of(server: u32, video_uid: &str) -> Option<u32> {
    children_of(server)
        .into_iter()
        .find(|&p| cwd(p).is_some_and(|d| d.ends_with(video_uid)))
}

/// Every live process whose command line or working directory mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let dir = cwd(p).map(|d| d.display().to_string()).unwrap_or_default();
        if alive(p) && (cmd.contains(needle) || dir.contains(needle)) {
            out.push(p);
        }
    }
    out
}

/// Files under `dir` (recursively) whose name ends with `suffix`.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_ending(&p, suffix));
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
    out
}
