//! One task per broadcast that owns its ffmpeg child: copies RTMP bytes into
//! its stdin, notices when the first segments are out (live), carries out
//! stop requests, and when ffmpeg exits for any reason closes the recording
//! and ends the broadcast.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::api::StopMode;
use crate::ffmpeg::Rendition;
use crate::hls;
use crate::recording::{self, RecordingMeta};

/// How often the playlists are checked for the first segments.
const LIVE_POLL: Duration = Duration::from_millis(200);
/// How long a clean stop may take before ffmpeg is killed.
const CLEAN_STOP_GRACE: Duration = Duration::from_secs(5);
/// ffmpeg stderr lines kept for the log when it dies.
const STDERR_TAIL: usize = 12;

/// A request to end a broadcast; `done` fires once the recording is closed.
pub struct StopRequest {
    pub mode: StopMode,
    pub done: oneshot::Sender<()>,
}

/// What the supervisor needs to know about its broadcast.
pub struct Broadcast {
    pub video_uid: String,
    pub dir: PathBuf,
    pub renditions: Vec<Rendition>,
    pub meta: RecordingMeta,
    /// FLV bytes for ffmpeg's stdin (RTMP).
    pub feed: Option<mpsc::Receiver<Bytes>>,
}

/// Puts the child in its own process group (a Ctrl-C in the terminal reaches
/// only the server, which then stops ffmpeg cleanly) and has the kernel kill
/// it if the server dies without doing so (even by SIGKILL).
///
/// PR_SET_PDEATHSIG fires when the spawning *thread* exits: children are
/// spawned from tokio worker threads, which live as long as the runtime.
pub fn detach_and_tie_to_parent(cmd: &mut Command) {
    cmd.process_group(0);
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec; it calls only
    // async-signal-safe functions (prctl, getppid) and does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The server died between fork and prctl.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// SIGINT: ffmpeg finishes the segment, writes `#EXT-X-ENDLIST` and exits.
fn interrupt(child: &Child) {
    if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our
        // own child, not yet reaped (id() is None after that).
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
}

/// Segments a live playlist has before the broadcast counts as live. The
/// HLS spec (RFC 8216, 6.3.3) has clients start no closer than three target
/// durations to the end, so fewer can't be played: Chromium's native HLS
/// shows the first frame of a 1- or 2-segment playlist, then fails with
/// DEMUXER_ERROR_COULD_NOT_PARSE (and our player then falls back to
/// hls.js). At 2 s segments the broadcast is live ~6 s after it starts.
pub const MIN_LIVE_SEGMENTS: usize = 3;

/// Whether every rendition's playlist lists enough segments to play live.
pub async fn playable(dir: &Path, renditions: &[Rendition]) -> bool {
    for r in renditions {
        let Ok(text) = tokio::fs::read_to_string(dir.join(r.playlist())).await else {
            return false;
        };
        if !hls::parse(&text).is_ok_and(|p| p.segments.len() >= MIN_LIVE_SEGMENTS) {
            return false;
        }
    }
    !renditions.is_empty()
}

async fn pump(mut feed: mpsc::Receiver<Bytes>, mut stdin: ChildStdin) {
    while let Some(chunk) = feed.recv().await {
        if stdin.write_all(&chunk).await.is_err() {
            break;
        }
    }
    // Dropping stdin closes it: ffmpeg sees the end of the stream.
}

async fn log_stderr(stderr: ChildStderr, video: String) -> VecDeque<String> {
    let mut tail = VecDeque::with_capacity(STDERR_TAIL);
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(video = %video, "ffmpeg: {line}");
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    tail
}

fn describe(status: &io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("wait failed: {e}"),
    }
}

/// What a supervised broadcast reports upward. The origin implements it, so
/// this lower room reports through a trait instead of importing the room
/// above it (as `rtmp_ingest::PublishHandler` does for ingest).
pub trait BroadcastEvents: Send + Sync + 'static {
    /// The broadcast's playlists are playable.
    fn broadcast_live(&self, video_uid: &str);
    /// ffmpeg exited and the recording is closed (`outcome`: its duration
    /// and state), or could not be (`None`); `how` says why it ended.
    fn broadcast_ended(
        &self,
        video_uid: &str,
        how: &str,
        outcome: Option<(f64, recording::RecordingState)>,
    );
}

/// Runs until ffmpeg has exited and the broadcast is ended.
pub async fn supervise(
    origin: Arc<dyn BroadcastEvents>,
    b: Broadcast,
    mut child: Child,
    mut stop_rx: mpsc::UnboundedReceiver<StopRequest>,
) {
    let Broadcast {
        video_uid,
        dir,
        renditions,
        mut meta,
        feed,
    } = b;
    let stderr = child
        .stderr
        .take()
        .map(|e| tokio::spawn(log_stderr(e, video_uid.clone())));
    let mut pump = match (feed, child.stdin.take()) {
        (Some(feed), Some(stdin)) => Some(tokio::spawn(pump(feed, stdin))),
        _ => None,
    };
    let mut waiters = Vec::new();
    let mut live = false;
    let mut requests_open = true;
    let mut stopping = false;
    let mut kill_at: Option<Instant> = None;
    let mut poll = tokio::time::interval(LIVE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            req = stop_rx.recv(), if requests_open => match req {
                None => requests_open = false,
                Some(StopRequest { mode, done }) => {
                    waiters.push(done);
                    stopping = true;
                    match mode {
                        StopMode::Abrupt => {
                            let _ = child.start_kill();
                        }
                        StopMode::Clean if kill_at.is_none() => {
                            match pump.take() {
                                // RTMP: end of input, as when the publisher leaves.
                                Some(p) => p.abort(),
                                None => interrupt(&child),
                            }
                            kill_at = Some(Instant::now() + CLEAN_STOP_GRACE);
                        }
                        StopMode::Clean => {}
                    }
                }
            },
            _ = poll.tick(), if !live => {
                if playable(&dir, &renditions).await {
                    live = true;
                    origin.broadcast_live(&video_uid);
                }
            }
            () = tokio::time::sleep_until(kill_at.unwrap_or_else(Instant::now)), if kill_at.is_some() => {
                tracing::warn!(video = %video_uid, "ffmpeg ignored the stop request: killing it");
                let _ = child.start_kill();
                kill_at = None;
            }
        }
    };
    if let Some(p) = pump {
        p.abort();
    }
    let how = describe(&status);
    let tail = match stderr {
        Some(t) => tokio::time::timeout(Duration::from_secs(1), t)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => VecDeque::new(),
    };
    let failed = !stopping && !status.as_ref().is_ok_and(ExitStatus::success);
    if failed {
        tracing::warn!(video = %video_uid, ffmpeg = %how, stderr = ?tail, "ffmpeg died");
    }

    let closed = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let duration = recording::finalize(&dir, &meta.renditions)?;
            meta.ended = Some(recording::rfc3339(SystemTime::now()));
            meta.duration_seconds = Some(duration);
            meta.state = recording::state_for(duration);
            meta.exit = Some(how);
            recording::write_meta(&dir, &meta)?;
            Ok::<_, io::Error>((meta.exit.unwrap_or_default(), duration, meta.state))
        })
        .await
    };
    let (how, outcome) = match closed {
        Ok(Ok((how, duration, state))) => (how, Some((duration, state))),
        Ok(Err(e)) => {
            tracing::error!(video = %video_uid, error = %e, "cannot close the recording");
            (format!("recording not closed: {e}"), None)
        }
        Err(e) => (format!("recording not closed: {e}"), None),
    };
    origin.broadcast_ended(&video_uid, &how, outcome);
    for w in waiters {
        let _ = w.send(());
    }
    // Stop requests that raced with the end.
    stop_rx.close();
    while let Ok(req) = stop_rx.try_recv() {
        let _ = req.done.send(());
    }
}
