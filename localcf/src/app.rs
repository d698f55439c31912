//! Wiring: the router, the listeners, start-up and shutdown.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::handler::HandlerWithoutStateExt;
use axum::http::header;
use axum::middleware;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::account_api::{self, StandIn, LOCAL_ACCOUNT};
use crate::config::Config;
use crate::error::ApiError;
use crate::ffmpeg::Encode;
use crate::guard::{self, Exposure};
use crate::origin::{Origin, Settings};
use crate::signed::{self, SigningKeys};
use crate::{control, delivery, demo, recording, rtmp, thumbnails, viewers};
use http_common::serve::shown_host;
use stream_api::Secret;

/// Fonts tried, in order, for the burned-in clock (Debian fonts-dejavu-core).
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];
/// How long in-flight HTTP requests may finish after the broadcasts stopped.
const HTTP_DRAIN: Duration = Duration::from_secs(3);

/// What the HTTP surface serves.
pub struct Services {
    pub origin: Arc<Origin>,
    /// The account API stand-in.
    pub stand_in: Arc<StandIn>,
    /// Who may drive it (see [`guard`]).
    pub exposure: Exposure,
}

/// The whole HTTP surface: control API, delivery endpoints, the account API
/// stand-in, then the player. Only delivery and the player have CORS; the
/// [`guard`] runs before every handler.
pub fn router(services: Services, dist: &Path) -> Router {
    let Services {
        origin,
        stand_in,
        exposure,
    } = services;
    let signed_guard = signed::Guard {
        keys: Arc::clone(&stand_in.signing_keys),
        origin: Arc::clone(&origin),
    };
    let not_found = || async {
        ApiError::NotFound("not found (the player is served from --dist; is it built?)".into())
    };
    let player = ServeDir::new(dist).not_found_service(not_found.into_service());
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    let trace = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
        .on_failure(());
    let control = Router::new()
        .route("/control/health", get(control::health))
        .route("/control/stats", get(control::stats))
        .route("/control/stats/reset", post(control::reset_stats))
        .route(
            "/control/inputs",
            get(control::list_inputs).post(control::create_input),
        )
        .route(
            "/control/inputs/{uid}",
            get(control::get_input).delete(control::delete_input),
        )
        .route("/control/inputs/{uid}/start", post(control::start))
        .route("/control/inputs/{uid}/stop", post(control::stop))
        .route("/control/inputs/{uid}/viewers", put(control::set_viewers))
        .route(
            "/control/inputs/{uid}/faults",
            get(control::get_faults)
                .put(control::put_faults)
                .delete(control::delete_faults),
        )
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(Arc::clone(&origin));
    let delivery = Router::new()
        .route("/{id}/lifecycle", get(delivery::lifecycle))
        .route("/{id}/views", get(delivery::views))
        .route("/{id}/manifest/{file}", get(delivery::manifest))
        .route("/{id}/thumbnails/{file}", get(delivery::thumbnail))
        .fallback_service(player)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(cors)
        .with_state(origin);
    let routes = delivery.merge(control).merge(account_api::router(stand_in));
    // Outside the routes: a token in place of the uid is swapped for its
    // `sub` before routing (see `signed`). The request log is inside, so it
    // shows the uid, never a token. Outermost, the [`guard`]: Host, Origin,
    // content type and control token before anything else.
    signed::guard(signed_guard, routes.layer(trace)).layer(middleware::from_fn_with_state(
        Arc::new(exposure),
        guard::enforce,
    ))
}

/// Loopback binds accept loopback host names only; any other bind needs a
/// control token, the given one or a random one printed once to stderr
/// (the only place it is ever shown).
fn exposure_for(addr: SocketAddr, given: Option<Secret>) -> Exposure {
    if addr.ip().is_loopback() {
        return Exposure::Loopback;
    }
    let control_token = given.unwrap_or_else(|| {
        let t = Secret::random();
        eprintln!(
            "localcf: bound beyond loopback ({addr}); the control API needs \
             `Authorization: Bearer {}`",
            t.expose()
        );
        t
    });
    tracing::warn!(
        %addr,
        "bound beyond loopback: the control API needs its token; never expose this stand-in to the internet"
    );
    Exposure::Network { control_token }
}

fn find_font() -> Option<String> {
    FONTS
        .iter()
        .find(|f| Path::new(f).is_file())
        .map(|f| (*f).to_string())
}

async fn bind(host: &str, port: u16, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen for {what} on {host}:{port}: {e}"))
}

/// Runs the server until SIGINT/SIGTERM, then stops every broadcast and
/// removes temporary files.
pub async fn run(cfg: Config) -> Result<(), String> {
    // No token given: a random one nobody knows, so the account API is closed.
    let token = cfg.read_token()?.unwrap_or_else(Secret::random);
    let caps = cfg.caps()?;
    let http = bind(&cfg.host, cfg.port, "HTTP").await?;
    let http_addr: SocketAddr = http.local_addr().map_err(|e| e.to_string())?;
    let rtmp = if cfg.no_rtmp {
        None
    } else {
        Some(bind(&cfg.host, cfg.rtmp_port, "RTMP").await?)
    };
    let host = shown_host(http_addr.ip());
    let own_http = format!("http://{host}:{}", http_addr.port());
    let rtmp_port = match &rtmp {
        Some(l) => Some(l.local_addr().map_err(|e| e.to_string())?.port()),
        None => None,
    };

    let data_dir: PathBuf = cfg.data_dir.clone();
    std::fs::create_dir_all(recording::videos_dir(&data_dir))
        .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
    let earlier = {
        let dir = data_dir.clone();
        let recovered = tokio::task::spawn_blocking(move || {
            let n = recording::recover(&dir)?;
            recording::remove_temp_files(&dir)?;
            Ok::<_, std::io::Error>((n, recording::scan(&dir)?))
        })
        .await;
        match recovered {
            Ok(Ok((n, found))) => {
                if n > 0 {
                    tracing::info!(n, "closed recordings left live by an earlier run");
                }
                found
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot recover earlier recordings");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot recover earlier recordings");
                Vec::new()
            }
        }
    };
    let font = find_font();
    if font.is_none() {
        tracing::warn!(
            "no DejaVu font found (apt-get install fonts-dejavu-core); fontconfig picks one"
        );
    }
    match tokio::process::Command::new(&cfg.ffmpeg)
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
    {
        Ok(s) if s.success() => {}
        _ => {
            tracing::warn!(ffmpeg = %cfg.ffmpeg, "ffmpeg not found: broadcasts will fail to start")
        }
    }

    let thumbnail_limits = thumbnails::Limits {
        jobs: cfg.thumbnail_jobs as usize,
        queue: cfg.thumbnail_queue as usize,
        ..thumbnails::Limits::default()
    };
    let origin = Arc::new(Origin::with_thumbnail_limits(
        Settings {
            data_dir: data_dir.clone(),
            encode: Encode {
                size: cfg.video_size,
                preset: cfg.preset.clone(),
                fps: cfg.fps,
                abr: cfg.abr,
            },
            segment_seconds: cfg.segment_seconds,
            live_window: usize::try_from(cfg.live_window_segments).unwrap_or(usize::MAX),
            ffmpeg: cfg.ffmpeg.clone(),
            font,
            rtmp_base: rtmp_port.map(|p| format!("rtmp://{host}:{p}/live")),
            caps,
            viewer_limits: cfg.viewer_limits(),
        },
        thumbnail_limits,
    ));
    let loaded = origin.load_recordings(earlier);
    if loaded > 0 {
        tracing::info!(n = loaded, "recordings of earlier runs playable again");
    }

    let stand_in = Arc::new(StandIn {
        origin: Arc::clone(&origin),
        account: LOCAL_ACCOUNT.into(),
        token,
        ready_after: Duration::from_secs(cfg.recording_ready_seconds),
        delivery_base: own_http.clone(),
        signing_keys: Arc::new(SigningKeys::load(&data_dir)),
    });
    let demo_task = if cfg.demo {
        demo::create_input(&origin).map_err(|e| format!("cannot create the demo input: {e}"))?;
        Some(tokio::spawn(demo::run(
            Arc::clone(&origin),
            Duration::from_secs(cfg.demo_idle_seconds),
            Duration::from_secs(cfg.demo_live_seconds),
        )))
    } else {
        None
    };
    let prune_task = {
        let origin = Arc::clone(&origin);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(viewers::PRUNE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                origin.prune_viewers(std::time::Instant::now());
            }
        })
    };
    let rtmp_task = rtmp.map(|listener| {
        let handler = Arc::new(rtmp::IngestHandler {
            origin: Arc::clone(&origin),
        });
        let config = rtmp::ingest_config(&cfg);
        tokio::spawn(async move {
            if let Err(e) = rtmp_ingest::serve_with_config(listener, handler, config).await {
                tracing::error!(error = %e, "RTMP ingest stopped");
            }
        })
    });

    let exposure = exposure_for(http_addr, cfg.control_token.clone());
    let app = router(
        Services {
            origin: Arc::clone(&origin),
            stand_in,
            exposure,
        },
        &cfg.dist,
    );
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = axum::serve(
        http,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = http_stopped.await;
    });
    let mut server = tokio::spawn(async move { serve.await });

    let rtmp_shown = match rtmp_port {
        Some(p) => format!("rtmp://{host}:{p}"),
        None => "none".into(),
    };
    tracing::info!(
        http = %format!("http://{host}:{}", http_addr.port()), rtmp = %rtmp_shown,
        data_dir = %data_dir.display(), dist = %cfg.dist.display(), "listening"
    );
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "READY http=http://{host}:{} rtmp={rtmp_shown}",
            http_addr.port()
        )
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }

    http_common::serve::until_signal(&mut server).await?;
    if let Some(t) = demo_task {
        t.abort();
    }
    prune_task.abort();
    if let Some(t) = rtmp_task {
        t.abort();
    }
    origin.shutdown().await;
    let _ = stop_http.send(());
    // In-flight requests get a moment to finish; then they are dropped.
    if tokio::time::timeout(HTTP_DRAIN, &mut server).await.is_err() {
        server.abort();
    }
    match tokio::task::spawn_blocking(move || recording::remove_temp_files(&data_dir)).await {
        Ok(Ok(n)) if n > 0 => tracing::info!(n, "temporary files removed"),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot remove temporary files"),
        _ => {}
    }
    tracing::info!("bye");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_follows_the_bind() {
        for loopback in ["127.0.0.1:8080", "[::1]:8080", "127.0.0.2:1"] {
            let e = exposure_for(loopback.parse().unwrap(), None);
            assert!(matches!(e, Exposure::Loopback), "{loopback}");
        }
        // Beyond loopback: a token, random when none is given...
        let a = exposure_for("0.0.0.0:8080".parse().unwrap(), None);
        let b = exposure_for("0.0.0.0:8080".parse().unwrap(), None);
        match (a, b) {
            (Exposure::Network { control_token: a }, Exposure::Network { control_token: b }) => {
                assert!(a.expose().len() >= 32);
                assert_ne!(a.expose(), b.expose());
            }
            other => panic!("{other:?}"),
        }
        // ...or the given one.
        let given = exposure_for("192.0.2.1:80".parse().unwrap(), Some(Secret::new("mine")));
        assert!(
            matches!(given, Exposure::Network { control_token } if control_token.expose() == "mine")
        );
    }
}
