//! Wiring: the router, the listener, start-up and shutdown.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::account_client::AccountClient;
use crate::auth::{JitsiAuth, KeyMode};
use crate::cache::{CacheSettings, RecordingsCache};
use crate::config::Config;
use crate::error::ApiError;
use crate::rate_limit::{Limit, RateLimiter};
use crate::recordings::Rewrite;
use crate::recordings_api::{self, CorsOrigins, RecordingsService};
use crate::rooms::RoomsService;
use crate::rooms_api::{self, GoLive};
use http_common::serve::shown_host;

/// How long in-flight HTTP requests may finish after a shutdown signal.
const HTTP_DRAIN: Duration = Duration::from_secs(3);

/// What the HTTP surface serves.
pub struct Services {
    pub recordings: Arc<RecordingsService>,
    /// Who may read the recordings endpoint.
    pub recordings_cors: CorsOrigins,
    /// The watch page's lifecycle answer or preload.
    pub watch_page: Arc<crate::watch_page::WatchPage>,
}

/// The whole HTTP surface: the API, then the player. Nothing else: any other
/// path (`/control/...` included) is a 404.
pub fn router(services: Services, dist: &Path) -> Router {
    router_with_go_live(services, None, Router::new(), dist)
}

/// [`router`] plus the go-live API when it is configured, and `extra`
/// routes (the figures, /metrics) under the same layers.
pub fn router_with_go_live(
    services: Services,
    go_live: Option<Arc<GoLive>>,
    extra: Router,
    dist: &Path,
) -> Router {
    let not_found = || async { ApiError::NotFound("not found".into()) };
    // The .br/.gz copies scripts/precompress.mjs writes beside the files,
    // to browsers that accept them: the player's wasm and hls.js go out at
    // a third of their size, with no compression work per request.
    // `Vary`, so that a shared cache never hands one to a browser that did
    // not ask for it.
    let player = tower_http::set_header::SetResponseHeader::appending(
        ServeDir::new(dist)
            .precompressed_br()
            .precompressed_gzip()
            .not_found_service(not_found.into_service()),
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    );
    // The span names the path only: a query may carry a Jitsi token (?jwt=).
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
        .on_failure(());
    Router::new()
        .nest_service("/control", not_found.into_service())
        .merge(recordings_api::router(
            services.recordings,
            &services.recordings_cors,
        ))
        .merge(go_live.map(rooms_api::router).unwrap_or_default())
        .merge(extra)
        .fallback_service(player)
        .layer(axum::middleware::from_fn_with_state(
            services.watch_page,
            crate::watch_page::watch_page,
        ))
        // Pages may carry a Jitsi token in their address (?jwt=) until their
        // script takes it out: never let it leave in a Referer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(trace)
}

/// The go-live API's parts, or `None` when no Jitsi app id is set.
fn go_live(
    cfg: &Config,
    client: &Arc<AccountClient>,
    own_http: &str,
) -> Result<Option<Arc<GoLive>>, String> {
    let Some(auth) = cfg.auth_settings()? else {
        tracing::info!(
            "go-live: off (set JITSI_APP_ID and JITSI_APP_SECRET or JITSI_ASAP_KEY_SERVER)"
        );
        return Ok(None);
    };
    let live = cfg.live_settings(own_http)?;
    tracing::info!(
        app_id = %auth.app_id,
        mode = match auth.mode { KeyMode::Secret(_) => "HS256 (app secret)", KeyMode::KeyServer(_) => "RS256 (ASAP key server)" },
        public_url = %live.public_url,
        "go-live: POST/GET /api/rooms/<room>/live"
    );
    let limit = Limit {
        per_minute: cfg.go_live_rate_per_minute,
        burst: cfg.go_live_burst,
    };
    Ok(Some(Arc::new(GoLive {
        rooms: Arc::new(RoomsService::new(Arc::clone(client), live)?),
        auth: Arc::new(JitsiAuth::new(auth)?),
        by_address: RateLimiter::new(limit, 100_000),
        by_token: RateLimiter::new(limit, 100_000),
        trust_forwarded_for: cfg.trust_forwarded_for,
    })))
}

/// The viewer-token endpoint's parts (it rides on go-live: rooms' inputs).
fn viewer_tokens(
    cfg: &Config,
    client: &Arc<AccountClient>,
    live: &Arc<GoLive>,
    cache: &Arc<RecordingsCache<AccountClient>>,
) -> Result<Arc<crate::viewer_token::ViewerTokens>, String> {
    use crate::signing_key::KeyStore;
    use crate::viewer_token::{Access, ViewerTokens};
    let given = KeyStore::configured(
        cfg.signing_key_file.as_deref(),
        cfg.signing_key_id.as_deref(),
        cfg.signing_key_pem.as_ref(),
    )?;
    let access: Access = cfg.viewer_access.parse()?;
    let ttl = Duration::from(cfg.viewer_token_ttl);
    tracing::info!(
        access = ?access,
        ttl = %humantime::format_duration(ttl),
        key = %given.as_ref().map_or("created on first need", |k| k.id.as_str()),
        default_private = cfg.live_require_signed_urls,
        "viewer tokens: POST /api/rooms/<room>/viewer-token"
    );
    let keys = Arc::new(KeyStore::new(
        Arc::clone(client),
        cfg.signing_key_file.clone(),
        given,
    ));
    let limit = Limit {
        per_minute: cfg.viewer_token_rate_per_minute,
        burst: cfg.viewer_token_burst,
    };
    let tokens = Arc::new(ViewerTokens::new(
        Arc::clone(live),
        keys,
        Arc::clone(cache),
        access,
        ttl,
        RateLimiter::new(limit, 100_000),
    ));
    // The moderator's status of a private room reads delivery with a token.
    live.rooms.set_signer(Arc::clone(&tokens) as _);
    Ok(tokens)
}

/// Runs the backend until SIGINT/SIGTERM.
pub async fn run(cfg: Config) -> Result<(), String> {
    let token = cfg.read_token()?;
    let client = AccountClient::new(cfg.client(token)?)?;
    let delivery_base = cfg.delivery_base()?;
    let watch_page = Arc::new(crate::watch_page::WatchPage::new(delivery_base.as_deref())?);
    let recordings_cors = recordings_api::parse_cors_origins(&cfg.recordings_cors_origins)
        .map_err(|e| format!("--recordings-cors-origins: {e}"))?;
    let frames = http_common::headers::FramePolicy::parse(&cfg.frame_ancestors)
        .map_err(|e| format!("--frame-ancestors: {e}"))?;
    let http = TcpListener::bind((cfg.host.as_str(), cfg.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", cfg.host, cfg.port))?;
    let http_addr: SocketAddr = http.local_addr().map_err(|e| e.to_string())?;
    let own_http = format!("http://{}:{}", shown_host(http_addr.ip()), http_addr.port());

    tracing::info!(
        api = %client.base(), account = %client.account(),
        delivery = %delivery_base.as_deref().unwrap_or("as Cloudflare gives it"),
        "recordings: listed from the account API"
    );
    let client = Arc::new(client);
    let go_live = go_live(&cfg, &client, &own_http)?;
    let mut cache_settings = CacheSettings::with_ttl(
        Duration::from_secs(cfg.recordings_ttl_seconds),
        usize::try_from(cfg.recordings_cache_inputs).unwrap_or(usize::MAX),
        Rewrite { delivery_base },
    );
    cache_settings.missing_ttl = Duration::from_secs(cfg.recordings_missing_ttl_seconds);
    let cache = RecordingsCache::new(Arc::clone(&client), cache_settings);
    let qoe_url = cfg.qoe.database_url()?;
    let qoe_store = crate::qoe::store::Store::open(qoe_url.expose()).await?;
    tracing::info!(engine = ?qoe_store.engine(), "viewing figures: database ready");
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let qoe_inputs: Option<Arc<dyn crate::qoe::InputCheck>> = cfg
        .qoe
        .qoe_check_inputs
        .then(|| Arc::new(crate::qoe::CacheInputs(Arc::clone(&cache))) as _);
    let qoe = crate::qoe::QoeService::new(
        qoe_store,
        Arc::clone(&metrics),
        cfg.qoe.settings()?,
        qoe_inputs,
    );
    let flusher = qoe.spawn_flusher();
    let recordings = Arc::new(RecordingsService::new(cache));
    // The figures' read goes with go-live: the same token, the same rooms.
    let qoe_read = go_live
        .as_ref()
        .map(|g| rooms_api::qoe_router(Arc::clone(g), Arc::clone(&qoe)))
        .unwrap_or_default();
    let viewer_tokens = match &go_live {
        Some(g) => crate::viewer_token::router(viewer_tokens(&cfg, &client, g, &recordings.cache)?),
        None => Router::new(),
    };
    let extra = crate::qoe::api::router(qoe)
        .merge(qoe_read)
        .merge(viewer_tokens)
        .merge(crate::metrics::router(
            metrics,
            Some(Arc::clone(&recordings)),
            cfg.qoe.metrics_token.clone(),
        ));
    let app = router_with_go_live(
        Services {
            recordings,
            recordings_cors,
            watch_page,
        },
        go_live,
        extra,
        &cfg.dist,
    );
    // nosniff, CSP on pages, no-store on answers to credentials.
    let app = http_common::headers::secure(app, frames);
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    // Not axum::serve: it has no header-read or idle timeout and no
    // connection cap (http_common::limits).
    let serve = http_common::limits::serve(http, app, cfg.serve.limits(), async {
        let _ = http_stopped.await;
    });
    let mut server = tokio::spawn(serve);
    tracing::info!(http = %own_http, dist = %cfg.dist.display(), "listening");
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY http={own_http}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    http_common::serve::until_signal(&mut server).await?;
    let _ = stop_http.send(());
    if tokio::time::timeout(HTTP_DRAIN, &mut server).await.is_err() {
        server.abort();
    }
    // The last figures reach the database before we go.
    flusher.stop().await;
    tracing::info!("bye");
    Ok(())
}
