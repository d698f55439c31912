//! End-to-end: real ffmpeg publishers against `serve` on loopback, FLV written to files,
//! checked with ffprobe and a small FLV walker.

use bytes::Bytes;
use rtmp_ingest::{serve_with_config, Config, PublishHandler};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// What the consumer side of one publication saw, reported when its channel closed.
#[derive(Debug)]
struct Ended {
    key: String,
    path: PathBuf,
    bytes: u64,
    at: Instant,
}

/// Accepts the keys in `allowed`, writes each publication's FLV to `<dir>/<key>.flv`.
struct FileHandler {
    dir: PathBuf,
    allowed: HashSet<String>,
    /// Every (app, key) asked for, accepted or not.
    seen: Mutex<Vec<(String, String)>>,
    ended: mpsc::UnboundedSender<Ended>,
    consumer: Consumer,
}

/// How the test consumer behaves.
#[derive(Clone, Copy)]
struct Consumer {
    capacity: usize,
    /// Sleep this long before reading anything (a slow or stuck consumer).
    stall_first: Duration,
    /// Stop reading and drop the receiver after this many chunks (a consumer that died).
    give_up_after: Option<usize>,
}

impl Default for Consumer {
    fn default() -> Self {
        Self {
            // Small on purpose: exercises backpressure on every run.
            capacity: 8,
            stall_first: Duration::ZERO,
            give_up_after: None,
        }
    }
}

impl PublishHandler for FileHandler {
    fn on_publish(&self, app: &str, key: &str) -> Option<mpsc::Sender<Bytes>> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((app.to_string(), key.to_string()));
        }
        if !self.allowed.contains(key) {
            return None;
        }
        let consumer = self.consumer;
        let (tx, mut rx) = mpsc::channel::<Bytes>(consumer.capacity);
        let path = self.dir.join(format!("{key}.flv"));
        let ended = self.ended.clone();
        let key = key.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(consumer.stall_first).await;
            let mut file = match tokio::fs::File::create(&path).await {
                Ok(f) => f,
                Err(err) => panic!("create {}: {err}", path.display()),
            };
            let mut bytes = 0u64;
            let mut chunks = 0usize;
            while let Some(chunk) = rx.recv().await {
                bytes += chunk.len() as u64;
                chunks += 1;
                if let Err(err) = file.write_all(&chunk).await {
                    panic!("write {}: {err}", path.display());
                }
                if consumer.give_up_after.is_some_and(|n| chunks >= n) {
                    break;
                }
            }
            drop(rx);
            let _ = file.flush().await;
            let _ = ended.send(Ended {
                key,
                path,
                bytes,
                at: Instant::now(),
            });
        });
        Some(tx)
    }
}

struct Harness {
    port: u16,
    handler: Arc<FileHandler>,
    ended: mpsc::UnboundedReceiver<Ended>,
}

impl Harness {
    async fn start(name: &str, keys: &[&str], config: Config) -> Harness {
        Self::start_with(name, keys, config, Consumer::default()).await
    }

    async fn start_with(name: &str, keys: &[&str], config: Config, consumer: Consumer) -> Harness {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rtmp-ingest-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (tx, ended) = mpsc::unbounded_channel();
        let handler = Arc::new(FileHandler {
            dir,
            allowed: keys.iter().map(|k| k.to_string()).collect(),
            seen: Mutex::new(Vec::new()),
            ended: tx,
            consumer,
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let dyn_handler: Arc<dyn PublishHandler> = handler.clone();
        tokio::spawn(async move {
            let _ = serve_with_config(listener, dyn_handler, config).await;
        });
        Harness {
            port,
            handler,
            ended,
        }
    }

    fn url(&self, key: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{key}", self.port)
    }

    fn seen_keys(&self) -> Vec<String> {
        self.handler
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, k)| k.clone())
            .collect()
    }

    async fn next_ended(&mut self, within: Duration) -> Ended {
        timeout(within, self.ended.recv())
            .await
            .expect("consumer channel did not close in time")
            .expect("handler gone")
    }
}

/// The publisher command from the brief, with a configurable length.
fn ffmpeg_publish(url: &str, seconds: u32) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(["-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440"])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
        ])
        .args([
            "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
        ])
        .args(["-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Runs a command to its end (bounded), returning its status and stderr.
async fn run(mut cmd: Command, within: Duration) -> (ExitStatus, String) {
    let child = cmd
        .spawn()
        .expect("spawn ffmpeg (is Debian's ffmpeg installed?)");
    let out = timeout(within, child.wait_with_output())
        .await
        .expect("ffmpeg did not finish in time")
        .expect("wait for ffmpeg");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Probe {
    codecs: Vec<String>,
    duration: f64,
}

async fn ffprobe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .args(["stream=codec_name:format=duration"])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .await
        .expect("run ffprobe");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut probe = Probe {
        codecs: Vec::new(),
        duration: f64::NAN,
    };
    for line in text.lines() {
        if let Some(codec) = line.strip_prefix("codec_name=") {
            probe.codecs.push(codec.to_string());
        } else if let Some(d) = line.strip_prefix("duration=") {
            probe.duration = d.parse().unwrap_or(f64::NAN);
        }
    }
    probe
}

/// Walks an FLV file: checks header, every PreviousTagSize, and that each track's first tag
/// is its sequence header. Returns (audio tags, video tags, script tags).
fn walk_flv(data: &[u8]) -> (usize, usize, usize) {
    assert!(data.len() >= 13, "file too short: {} bytes", data.len());
    assert_eq!(&data[..4], &[b'F', b'L', b'V', 1]);
    assert_eq!(data[4], 0x05, "audio+video flags");
    assert_eq!(&data[5..13], &[0, 0, 0, 9, 0, 0, 0, 0]);
    let (mut pos, mut audio, mut video, mut script) = (13usize, 0, 0, 0);
    let mut last_ts = 0u32;
    while pos < data.len() {
        let h = &data[pos..pos + 11];
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let body = &data[pos + 11..pos + 11 + size];
        let prev = &data[pos + 11 + size..pos + 15 + size];
        assert_eq!(
            u32::from_be_bytes([prev[0], prev[1], prev[2], prev[3]]) as usize,
            11 + size,
            "PreviousTagSize at {pos}"
        );
        match h[0] {
            8 => {
                if audio == 0 {
                    assert_eq!(&body[..2], &[0xAF, 0x00], "first audio tag is AAC config");
                }
                audio += 1;
            }
            9 => {
                if video == 0 {
                    assert_eq!(&body[..2], &[0x17, 0x00], "first video tag is AVC config");
                }
                video += 1;
            }
            18 => {
                assert_eq!(pos, 13, "onMetaData is the first tag");
                script += 1;
            }
            other => panic!("unexpected tag type {other} at {pos}"),
        }
        if h[0] != 18 {
            // ffmpeg interleaves audio and video in timestamp order; allow small jitter.
            assert!(
                ts + 100 >= last_ts,
                "timestamp went back: {last_ts} -> {ts}"
            );
            last_ts = last_ts.max(ts);
        }
        pos += 15 + size;
    }
    assert_eq!(pos, data.len(), "trailing bytes");
    (audio, video, script)
}

fn config() -> Config {
    Config::default()
}

fn assert_h264_aac(probe: &Probe, want_secs: f64) {
    assert!(
        probe.codecs.iter().any(|c| c == "h264"),
        "codecs: {:?}",
        probe.codecs
    );
    assert!(
        probe.codecs.iter().any(|c| c == "aac"),
        "codecs: {:?}",
        probe.codecs
    );
    assert!(
        (probe.duration - want_secs).abs() <= 1.0,
        "duration {} not within 1 s of {want_secs}",
        probe.duration
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_publish_becomes_probeable_flv_and_channel_closes_on_exit() {
    let mut h = Harness::start("single", &["alpha"], config()).await;
    let (status, stderr) = run(ffmpeg_publish(&h.url("alpha"), 4), Duration::from_secs(40)).await;
    let exited = Instant::now();
    assert!(status.success(), "ffmpeg failed: {stderr}");

    let ended = h.next_ended(Duration::from_secs(5)).await;
    assert_eq!(ended.key, "alpha");
    assert!(
        ended.at.duration_since(exited) < Duration::from_secs(3),
        "channel closed {:?} after ffmpeg exit",
        ended.at.duration_since(exited)
    );
    assert!(ended.bytes > 10_000, "only {} bytes", ended.bytes);
    assert_eq!(h.seen_keys(), ["alpha"]);

    let data = std::fs::read(&ended.path).unwrap();
    assert_eq!(data.len() as u64, ended.bytes);
    let (audio, video, script) = walk_flv(&data);
    assert_eq!(script, 1);
    assert!(video >= 100, "{video} video tags"); // 4 s at 30 fps = 120
    assert!(audio >= 150, "{audio} audio tags"); // 4 s of AAC at 44.1 kHz = ~172

    assert_h264_aac(&ffprobe(&ended.path).await, 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_is_rejected_quickly() {
    let h = Harness::start("wrong-key", &["right"], config()).await;
    let started = Instant::now();
    let (status, stderr) = run(ffmpeg_publish(&h.url("wrong"), 4), Duration::from_secs(20)).await;
    assert!(!status.success(), "ffmpeg should fail on a rejected key");
    // ffmpeg prints our onStatus description: the rejection came from us, not a timeout.
    assert!(stderr.contains("unknown stream key"), "stderr: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(h.seen_keys(), ["wrong"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishers_with_two_keys_at_once() {
    let mut h = Harness::start("two", &["one", "two"], config()).await;
    let a = run(ffmpeg_publish(&h.url("one"), 3), Duration::from_secs(40));
    let b = run(ffmpeg_publish(&h.url("two"), 3), Duration::from_secs(40));
    let ((sa, ea), (sb, eb)) = tokio::join!(a, b);
    assert!(sa.success(), "publisher one failed: {ea}");
    assert!(sb.success(), "publisher two failed: {eb}");

    let mut ended = vec![
        h.next_ended(Duration::from_secs(5)).await,
        h.next_ended(Duration::from_secs(5)).await,
    ];
    ended.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(ended[0].key, "one");
    assert_eq!(ended[1].key, "two");
    for e in &ended {
        walk_flv(&std::fs::read(&e.path).unwrap());
        assert_h264_aac(&ffprobe(&e.path).await, 3.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_silent_clients_do_not_hurt_the_server() {
    let mut h = Harness::start(
        "garbage",
        &["after"],
        Config {
            idle_timeout: Duration::from_secs(1),
            ..Config::default()
        },
    )
    .await;
    let addr = format!("127.0.0.1:{}", h.port);

    // Not RTMP at all: the handshake fails and the server closes the socket.
    let mut junk = TcpStream::connect(&addr).await.unwrap();
    junk.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_closed_by_server(&mut junk, Duration::from_secs(3)).await;

    // A plausible C0+C1, then garbage where C2 and chunks should be.
    let mut junk = TcpStream::connect(&addr).await.unwrap();
    let mut bytes = vec![3u8];
    bytes.extend((0..1536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    bytes.extend((0..8192u32).map(|i| (i.wrapping_mul(40_503) >> 7) as u8));
    let _ = junk.write_all(&bytes).await; // the server may already have hung up
    assert_closed_by_server(&mut junk, Duration::from_secs(3)).await;

    // Valid handshake, then RTMP messages that crash rml_rtmp 0.8 if they reach it: a
    // command with too few AMF values (panic) and deeply nested AMF (stack overflow, which
    // would abort the whole test process).
    let short_command = vec![0x02, 0x00, 0x01, b'x', 0x05];
    let mut deep = vec![0x02, 0x00, 0x01, b'x'];
    for _ in 0..20_000 {
        deep.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
    }
    for (type_id, data) in [(20u8, short_command), (18, deep)] {
        let mut client = handshaken_client(&addr).await;
        let _ = client.write_all(&chunked(type_id, data)).await;
        assert_closed_by_server(&mut client, Duration::from_secs(3)).await;
    }

    // Connects and says nothing: closed by the idle timeout.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let t = Instant::now();
    assert_closed_by_server(&mut silent, Duration::from_secs(5)).await;
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );

    // The server still takes a real publish.
    let (status, stderr) = run(ffmpeg_publish(&h.url("after"), 2), Duration::from_secs(30)).await;
    assert!(status.success(), "ffmpeg failed: {stderr}");
    let ended = h.next_ended(Duration::from_secs(5)).await;
    assert_h264_aac(&ffprobe(&ended.path).await, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_requests_are_refused() {
    let h = Harness::start("play", &["live"], config()).await;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(h.url("live"))
        .args(["-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let (status, _) = run(cmd, Duration::from_secs(20)).await;
    assert!(!status.success());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(h.seen_keys().is_empty(), "play must not reach on_publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_going_away_disconnects_the_publisher() {
    let mut h = Harness::start_with(
        "consumer-gone",
        &["k"],
        config(),
        Consumer {
            give_up_after: Some(20),
            ..Consumer::default()
        },
    )
    .await;
    let started = Instant::now();
    let (status, _) = run(ffmpeg_publish(&h.url("k"), 30), Duration::from_secs(20)).await;
    assert!(
        !status.success(),
        "publisher should see the connection drop"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let ended = h.next_ended(Duration::from_secs(1)).await;
    assert_eq!(ended.key, "k");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_gets_every_byte_through_backpressure() {
    // Capacity 1 and a 2 s stall: the ingest must wait (not drop, not disconnect).
    let consumer = Consumer {
        capacity: 1,
        stall_first: Duration::from_secs(2),
        give_up_after: None,
    };
    let mut h = Harness::start_with("slow-consumer", &["slow"], config(), consumer).await;
    let (status, stderr) = run(ffmpeg_publish(&h.url("slow"), 3), Duration::from_secs(30)).await;
    assert!(status.success(), "ffmpeg failed: {stderr}");
    let ended = h.next_ended(Duration::from_secs(10)).await;
    walk_flv(&std::fs::read(&ended.path).unwrap());
    assert_h264_aac(&ffprobe(&ended.path).await, 3.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_consumer_disconnects_the_publisher_after_the_idle_timeout() {
    let consumer = Consumer {
        capacity: 1,
        stall_first: Duration::from_secs(60),
        give_up_after: None,
    };
    let config = Config {
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let h = Harness::start_with("stuck-consumer", &["stuck"], config, consumer).await;
    let started = Instant::now();
    let (status, _) = run(ffmpeg_publish(&h.url("stuck"), 30), Duration::from_secs(25)).await;
    assert!(!status.success(), "publisher should be cut off");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

/// Connects and completes the RTMP handshake as a client.
async fn handshaken_client(addr: &str) -> TcpStream {
    use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut handshake = Handshake::new(PeerType::Client);
    let c0c1 = handshake.generate_outbound_p0_and_p1().unwrap();
    stream.write_all(&c0c1).await.unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let n = timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "server closed during handshake");
        match handshake.process_bytes(&buf[..n]).unwrap() {
            HandshakeProcessResult::InProgress { response_bytes } => {
                stream.write_all(&response_bytes).await.unwrap();
            }
            HandshakeProcessResult::Completed { response_bytes, .. } => {
                stream.write_all(&response_bytes).await.unwrap();
                return stream;
            }
        }
    }
}

/// One RTMP message as chunks (chunk stream 3-ish, message stream 0).
fn chunked(type_id: u8, data: Vec<u8>) -> Vec<u8> {
    use rml_rtmp::chunk_io::ChunkSerializer;
    use rml_rtmp::messages::MessagePayload;
    use rml_rtmp::time::RtmpTimestamp;
    let payload = MessagePayload {
        timestamp: RtmpTimestamp::new(0),
        type_id,
        message_stream_id: 0,
        data: Bytes::from(data),
    };
    ChunkSerializer::new()
        .serialize(&payload, true, false)
        .unwrap()
        .bytes
}

/// Reads until EOF or reset (the server closed); fails if the socket stays open too long.
async fn assert_closed_by_server(stream: &mut TcpStream, within: Duration) {
    let mut buf = [0u8; 4096];
    let r = timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue, // handshake bytes, responses
            }
        }
    })
    .await;
    assert!(r.is_ok(), "server kept the connection open");
}

/// Issue 15, item 8: before any stream key, a client declared a 16 MB message and sent its
/// body slowly; the server buffered it (twice). Now the header alone gets it closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_is_refused_at_its_header() {
    let h = Harness::start("oversized", &["k"], config()).await;
    let addr = format!("127.0.0.1:{}", h.port);
    let mut client = handshaken_client(&addr).await;
    // Type 0 header on chunk stream 6: video (9), 0xFFFFFF bytes, message stream 1.
    // Then 64 KiB of its body as valid 128-byte chunks (type 3 continuations).
    let mut bytes = vec![0x06, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0];
    bytes.extend([0u8; 128]);
    for _ in 0..512 {
        bytes.push(0xC6);
        bytes.extend([0u8; 128]);
    }
    let _ = client.write_all(&bytes).await;
    let t = Instant::now();
    assert_closed_by_server(&mut client, Duration::from_secs(3)).await;
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

/// Issue 15, item 8: no cap on connections. Over the cap, a connection is closed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_at_once() {
    let config = Config {
        max_connections: 2,
        ..Config::default()
    };
    let h = Harness::start("conn-cap", &["k"], config).await;
    let addr = format!("127.0.0.1:{}", h.port);
    let first = handshaken_client(&addr).await;
    let _second = handshaken_client(&addr).await;
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let t = Instant::now();
    assert_closed_by_server(&mut third, Duration::from_secs(2)).await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    // A slot frees when a connection ends.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _again = handshaken_client(&addr).await;
}

/// Issue 15, item 8: a handshake trickled at 1 byte per 20 s stayed open past 60 s (every
/// byte reset the idle timer). Scaled down: 1 byte per 500 ms, deadline 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_handshake_is_closed_at_the_deadline() {
    let config = Config {
        handshake_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let h = Harness::start("trickle-handshake", &["k"], config).await;
    let mut client = TcpStream::connect(format!("127.0.0.1:{}", h.port))
        .await
        .unwrap();
    let t = Instant::now();
    let closed = trickle_until_closed(&mut client, &[3u8; 1537], Duration::from_secs(6)).await;
    assert!(closed, "still open after {:?}", t.elapsed());
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

/// After the handshake, bytes that never complete a message do not keep a connection:
/// 1 byte per 300 ms of an endless message, idle timeout 1 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_message_is_closed_by_the_idle_timeout() {
    let config = Config {
        handshake_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let h = Harness::start("trickle-message", &["k"], config).await;
    let mut client = handshaken_client(&format!("127.0.0.1:{}", h.port)).await;
    let mut bytes = vec![0x06, 0, 0, 0, 0, 0x10, 0x00, 9, 1, 0, 0, 0];
    bytes.extend([0u8; 100]);
    let t = Instant::now();
    let closed = trickle_until_closed(&mut client, &bytes, Duration::from_secs(5)).await;
    assert!(closed, "still open after {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

/// Writes `bytes` one at a time, 300-500 ms apart; true once the server closed.
async fn trickle_until_closed(stream: &mut TcpStream, bytes: &[u8], within: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 8192];
    for b in bytes {
        if start.elapsed() > within {
            return false;
        }
        if stream.write_all(&[*b]).await.is_err() {
            return true;
        }
        // Wait for a close (EOF/reset) for a moment before the next byte.
        match timeout(Duration::from_millis(400), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            _ => {}
        }
    }
    false
}

/// After an accepted publish (valid key), a trickle that never completes a message is
/// closed by the idle timeout too: 1 byte per 300-500 ms, idle timeout 1 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickle_after_publish_is_closed_by_the_idle_timeout() {
    let config = Config {
        handshake_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let mut h = Harness::start("trickle-published", &["k"], config).await;
    let mut client = published_client(&format!("127.0.0.1:{}", h.port), "k").await;
    assert_eq!(h.seen_keys(), ["k"]);
    // A video message of 4096 bytes on a fresh chunk stream, never finished.
    let mut bytes = vec![0x07, 0, 0, 0, 0, 0x10, 0x00, 9, 1, 0, 0, 0];
    bytes.extend([0x17u8; 100]);
    let t = Instant::now();
    let closed = trickle_until_closed(&mut client, &bytes, Duration::from_secs(5)).await;
    assert!(closed, "still open after {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    h.next_ended(Duration::from_secs(2)).await;
}

/// Handshake, connect to `live`, publish `key`; returns once the server accepted.
async fn published_client(addr: &str, key: &str) -> TcpStream {
    use rml_rtmp::sessions::{
        ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult,
        PublishRequestType,
    };
    let mut stream = handshaken_client(addr).await;
    let (mut session, _) = ClientSession::new(ClientSessionConfig::new()).unwrap();
    let mut out = Vec::new();
    if let ClientSessionResult::OutboundResponse(p) =
        session.request_connection("live".into()).unwrap()
    {
        out.extend(p.bytes);
    }
    stream.write_all(&out).await.unwrap();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .expect("server answers")
            .unwrap();
        assert!(n > 0, "server closed before accepting the publish");
        let mut out = Vec::new();
        let mut published = false;
        for r in session.handle_input(&buf[..n]).unwrap() {
            match r {
                ClientSessionResult::OutboundResponse(p) => out.extend(p.bytes),
                ClientSessionResult::RaisedEvent(ClientSessionEvent::ConnectionRequestAccepted) => {
                    if let ClientSessionResult::OutboundResponse(p) = session
                        .request_publishing(key.into(), PublishRequestType::Live)
                        .unwrap()
                    {
                        out.extend(p.bytes);
                    }
                }
                ClientSessionResult::RaisedEvent(ClientSessionEvent::PublishRequestAccepted) => {
                    published = true;
                }
                _ => {}
            }
        }
        stream.write_all(&out).await.unwrap();
        if published {
            return stream;
        }
    }
}
