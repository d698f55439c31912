//! Command line and environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use stream_api::Secret;

use crate::account_client::{normalize_base, ClientConfig, CLOUDFLARE_API_BASE};
use crate::auth::{AuthSettings, KeyMode};
use crate::rooms::LiveSettings;

/// The backend a deployment runs next to Jitsi: the viewers' recordings
/// list over Cloudflare Stream's account API (cached, so thousands of
/// viewers cost a handful of calls), and the built player.
///
/// On start it prints one line to stdout, `READY http=http://<host>:<port>`;
/// logs go to stderr (RUST_LOG, default `info`).
#[derive(Debug, Clone, Parser)]
#[command(name = "backend", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// HTTP port; 0 picks a free one.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// The built player (trunk's dist/), served at `/`.
    #[arg(long = "dist", env = "DIST_DIR", default_value = "dist")]
    pub dist: PathBuf,

    /// Cloudflare account id (`local` for the local stand-in).
    #[arg(long, env = "CF_ACCOUNT_ID")]
    pub cf_account: String,

    /// Account API base URL (the local stand-in's
    /// `http://127.0.0.1:<port>/client/v4` in development).
    #[arg(long, env = "CF_API_BASE", default_value = CLOUDFLARE_API_BASE)]
    pub cf_api_base: String,

    /// Account API token. Prefer CF_API_TOKEN or --cf-api-token-file (a flag
    /// shows in `ps`).
    #[arg(long, env = "CF_API_TOKEN", hide_env_values = true)]
    pub cf_api_token: Option<Secret>,

    /// File holding the account API token (surrounding whitespace ignored).
    #[arg(long, env = "CF_API_TOKEN_FILE", conflicts_with = "cf_api_token")]
    pub cf_api_token_file: Option<PathBuf>,

    /// Seconds an account API call may take before it counts as failed.
    #[arg(long, env = "CF_API_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub cf_api_timeout_seconds: u64,

    /// Base that recordings' thumbnail and playlist URLs are rewritten to
    /// (`<base>/<videoUID>/manifest/video.m3u8`); default: Cloudflare's URLs
    /// as its API gives them.
    #[arg(long, env = "DELIVERY_BASE")]
    pub delivery_base: Option<String>,

    /// Origins allowed to read /api/inputs/<input>/recordings: `*` or a
    /// comma-separated list of scheme://host[:port].
    #[arg(long, env = "RECORDINGS_CORS_ORIGINS", default_value = "*")]
    pub recordings_cors_origins: String,

    /// Who may frame the watch page (its CSP `frame-ancestors`): `*`, `none`
    /// (this site only), or hosts separated by commas (`https://a.example`,
    /// `https://*.example.com`). This site is always allowed; the moderator
    /// page may be framed by this site only.
    #[arg(long, env = "FRAME_ANCESTORS", default_value = "*")]
    pub frame_ancestors: String,

    /// Seconds a recordings list is fresh (one account API call per input
    /// per TTL, however many viewers).
    #[arg(long, env = "RECORDINGS_TTL_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub recordings_ttl_seconds: u64,

    /// Seconds an input the account does not have (the account API said
    /// 404) is answered 404 without asking again; made-up ids cost one
    /// call per input per this long, at the lowest priority.
    #[arg(long, env = "RECORDINGS_MISSING_TTL_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub recordings_missing_ttl_seconds: u64,

    /// Inputs whose recordings list is kept in memory (least recently used go).
    #[arg(long, env = "RECORDINGS_CACHE_INPUTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub recordings_cache_inputs: u64,

    // ---- go-live (POST/GET /api/rooms/<room>/live) ----------------------
    /// The Jitsi app id (Prosody's `app_id`). Without it the go-live API is
    /// off (its paths answer 404).
    #[arg(long, env = "JITSI_APP_ID")]
    pub jitsi_app_id: Option<String>,

    /// The Jitsi app secret (Prosody's `app_secret`): HS256 tokens. Prefer
    /// the environment or --jitsi-app-secret-file (a flag shows in `ps`).
    #[arg(long, env = "JITSI_APP_SECRET", hide_env_values = true)]
    pub jitsi_app_secret: Option<Secret>,

    /// File holding the Jitsi app secret.
    #[arg(
        long,
        env = "JITSI_APP_SECRET_FILE",
        conflicts_with = "jitsi_app_secret"
    )]
    pub jitsi_app_secret_file: Option<PathBuf>,

    /// ASAP public-key server (Prosody's `asap_key_server`): RS256 tokens,
    /// the key of `kid` at `<server>/<sha256 hex of kid>.pem`.
    #[arg(long, env = "JITSI_ASAP_KEY_SERVER", conflicts_with_all = ["jitsi_app_secret", "jitsi_app_secret_file"])]
    pub jitsi_asap_key_server: Option<String>,

    /// Accepted token issuers (`iss`), comma-separated; `*` any. Default: the app id.
    #[arg(long, env = "JITSI_ACCEPTED_ISSUERS")]
    pub jitsi_accepted_issuers: Option<String>,

    /// Accepted token audiences (`aud`), comma-separated; `*` any. Default: the app id.
    #[arg(long, env = "JITSI_ACCEPTED_AUDIENCES")]
    pub jitsi_accepted_audiences: Option<String>,

    /// The Jitsi domain a token's `sub` must name (or `*`); unset: not checked.
    #[arg(long, env = "JITSI_DOMAIN")]
    pub jitsi_domain: Option<String>,

    /// Clock skew allowed on a token's `exp` and `nbf`.
    #[arg(long, env = "JITSI_TOKEN_LEEWAY_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub jitsi_token_leeway_seconds: u64,

    /// This backend's public URL, where viewers open the watch page (the
    /// `watchUrl` of go-live answers). Default: the address it listens on.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// `recording.timeoutSeconds` of created inputs: how long Jibri may be
    /// gone before a reconnect starts a new recording.
    #[arg(long, env = "LIVE_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub live_timeout_seconds: u64,

    /// Rooms are private unless a go-live request says `"private": false`:
    /// their inputs get `recording.requireSignedURLs`, and viewers need a
    /// token from `POST /api/rooms/<room>/viewer-token`.
    #[arg(
        long = "private-rooms",
        alias = "live-require-signed-urls",
        env = "PRIVATE_ROOMS",
        default_value_t = false
    )]
    pub live_require_signed_urls: bool,

    /// Who gets a viewer token for a private room: `link` (anyone with the
    /// watch link) or `participants` (only with a Jitsi token for the room,
    /// `Authorization: Bearer <jwt>` or `?jwt=`).
    #[arg(long, env = "VIEWER_ACCESS", default_value = "link", value_parser = ["link", "participants"])]
    pub viewer_access: String,

    /// Lifetime of a viewer token (`90s`, `1h`; 10s to 24h).
    #[arg(long, env = "VIEWER_TOKEN_TTL", default_value = "1h", value_parser = parse_viewer_ttl)]
    pub viewer_token_ttl: humantime::Duration,

    /// Viewer tokens allowed per minute per client address (a classroom
    /// behind one NAT shares an address: keep it generous).
    #[arg(long, env = "VIEWER_TOKEN_RATE_PER_MINUTE", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub viewer_token_rate_per_minute: u32,

    /// Viewer tokens allowed at once per client address.
    #[arg(long, env = "VIEWER_TOKEN_BURST", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub viewer_token_burst: u32,

    /// The Stream signing key, as a JSON file `{"id": ..., "pem": ...}`
    /// (`pem` as Cloudflare gives it, base64, or the PEM text). When missing
    /// and a private room needs a key, one is created through the account
    /// API and written here (mode 0600).
    #[arg(long, env = "STREAM_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// The signing key's id (with STREAM_SIGNING_KEY_PEM; instead of a file).
    #[arg(long, env = "STREAM_SIGNING_KEY_ID", hide = true)]
    pub signing_key_id: Option<String>,

    /// The signing key's private key (base64 or PEM text). Environment only:
    /// a flag would show in `ps`.
    #[arg(
        long,
        env = "STREAM_SIGNING_KEY_PEM",
        hide_env_values = true,
        hide = true
    )]
    pub signing_key_pem: Option<Secret>,

    /// `recording.allowedOrigins` of created inputs, comma-separated
    /// (empty: any origin may embed).
    #[arg(long, env = "LIVE_ALLOWED_ORIGINS", default_value = "")]
    pub live_allowed_origins: String,

    /// Go-live calls allowed per minute per client address, and per token.
    #[arg(long, env = "GO_LIVE_RATE_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub go_live_rate_per_minute: u32,

    /// Go-live calls allowed at once before the per-minute rate applies.
    #[arg(long, env = "GO_LIVE_BURST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub go_live_burst: u32,

    /// Behind a reverse proxy: rate-limit by the last X-Forwarded-For address.
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    #[command(flatten)]
    pub qoe: crate::qoe::QoeConfig,

    /// Connection cap and timeouts.
    #[command(flatten)]
    pub serve: http_common::limits::ServeArgs,
}

/// `--viewer-token-ttl`: 10 s to 24 h (Cloudflare's longest).
fn parse_viewer_ttl(s: &str) -> Result<humantime::Duration, String> {
    let d: humantime::Duration = s.parse().map_err(|e| format!("{e}"))?;
    let secs = std::time::Duration::from(d).as_secs();
    if !(10..=24 * 3600).contains(&secs) {
        return Err("a viewer token lives 10s to 24h (Cloudflare's longest)".into());
    }
    Ok(d)
}

impl Config {
    /// The token from --cf-api-token / CF_API_TOKEN or the token file.
    pub fn read_token(&self) -> Result<Secret, String> {
        if let Some(t) = &self.cf_api_token {
            return Ok(t.clone());
        }
        let Some(path) = &self.cf_api_token_file else {
            return Err(
                "the account API needs a token: CF_API_TOKEN, --cf-api-token-file or --cf-api-token"
                    .into(),
            );
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        text.parse::<Secret>()
            .map_err(|_| format!("the token file {} is empty", path.display()))
    }

    /// How the client reaches the account API.
    pub fn client(&self, token: Secret) -> Result<ClientConfig, String> {
        let account = self.cf_account.trim();
        if account.is_empty() {
            return Err("--cf-account is empty".into());
        }
        Ok(ClientConfig {
            base: normalize_base(&self.cf_api_base).map_err(|e| format!("--cf-api-base: {e}"))?,
            account: account.to_string(),
            token,
            timeout: Duration::from_secs(self.cf_api_timeout_seconds),
        })
    }

    /// How Jitsi tokens are verified; `None` when go-live is off.
    pub fn auth_settings(&self) -> Result<Option<AuthSettings>, String> {
        let Some(app_id) = self.jitsi_app_id.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if app_id.is_empty() {
            return Err("JITSI_APP_ID is empty".into());
        }
        let mode = if let Some(server) = &self.jitsi_asap_key_server {
            KeyMode::KeyServer(
                normalize_base(server).map_err(|e| format!("--jitsi-asap-key-server: {e}"))?,
            )
        } else if let Some(secret) = &self.jitsi_app_secret {
            KeyMode::Secret(secret.clone())
        } else if let Some(path) = &self.jitsi_app_secret_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
            KeyMode::Secret(
                text.parse::<Secret>()
                    .map_err(|_| format!("the secret file {} is empty", path.display()))?,
            )
        } else {
            return Err(
                "JITSI_APP_ID needs JITSI_APP_SECRET (or _FILE) or JITSI_ASAP_KEY_SERVER".into(),
            );
        };
        let list = |v: &Option<String>| -> Vec<String> {
            v.as_deref()
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| vec![app_id.to_string()])
        };
        Ok(Some(AuthSettings {
            app_id: app_id.to_string(),
            mode,
            issuers: list(&self.jitsi_accepted_issuers),
            audiences: list(&self.jitsi_accepted_audiences),
            domain: self
                .jitsi_domain
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            leeway_seconds: self.jitsi_token_leeway_seconds,
        }))
    }

    /// What created inputs get and where answers point; `own_url` is the
    /// address the backend listens on (the default public URL).
    pub fn live_settings(&self, own_url: &str) -> Result<LiveSettings, String> {
        let public_url = match &self.public_url {
            Some(u) => normalize_base(u).map_err(|e| format!("--public-url: {e}"))?,
            None => own_url.trim_end_matches('/').to_string(),
        };
        Ok(LiveSettings {
            timeout_seconds: self.live_timeout_seconds,
            require_signed_urls: self.live_require_signed_urls,
            allowed_origins: self
                .live_allowed_origins
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            public_url,
            delivery_base: self.delivery_base()?,
            input_ttl: Duration::from_secs(600),
        })
    }

    /// Where recordings' URLs point; `None` keeps Cloudflare's.
    pub fn delivery_base(&self) -> Result<Option<String>, String> {
        self.delivery_base
            .as_deref()
            .map(normalize_base)
            .transpose()
            .map_err(|e| format!("--delivery-base: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["backend", "--cf-account", "acc"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn private_room_settings() {
        let c = parse(&[]);
        assert!(!c.live_require_signed_urls);
        assert_eq!(c.viewer_access, "link");
        assert_eq!(
            Duration::from(c.viewer_token_ttl),
            Duration::from_secs(3600)
        );
        let c = parse(&[
            "--private-rooms",
            "--viewer-access",
            "participants",
            "--viewer-token-ttl",
            "60s",
        ]);
        assert!(c.live_require_signed_urls);
        assert_eq!(c.viewer_access, "participants");
        assert_eq!(Duration::from(c.viewer_token_ttl), Duration::from_secs(60));
        // The old flag name still works.
        assert!(parse(&["--live-require-signed-urls"]).live_require_signed_urls);
        assert_eq!(
            Duration::from(parse(&["--viewer-token-ttl", "24h"]).viewer_token_ttl),
            Duration::from_secs(86_400)
        );
        // Past Cloudflare's 24 h, too short, or an unknown policy: refused at start.
        for bad in [
            &["--viewer-token-ttl", "25h"][..],
            &["--viewer-token-ttl", "5s"],
            &["--viewer-token-ttl", "soon"],
            &["--viewer-access", "everyone"],
        ] {
            let mut all = vec!["backend", "--cf-account", "acc"];
            all.extend_from_slice(bad);
            assert!(Config::try_parse_from(all).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cli_is_consistent_and_has_defaults() {
        Config::command().debug_assert();
        assert!(
            Config::try_parse_from(["backend"]).is_err(),
            "the account is required"
        );
        let c = parse(&[]);
        assert_eq!(c.port, 8080);
        assert_eq!(c.recordings_ttl_seconds, 15);
        assert_eq!(c.recordings_cors_origins, "*");
        assert_eq!(c.cf_api_timeout_seconds, 10);
        assert!(c.read_token().unwrap_err().contains("token"));
    }

    #[test]
    fn cloudflare_and_local_bases() {
        let c = parse(&["--cf-api-token", "t"]);
        let client = c.client(c.read_token().unwrap()).unwrap();
        assert_eq!(client.base, CLOUDFLARE_API_BASE);
        assert_eq!(client.account, "acc");
        assert_eq!(c.delivery_base().unwrap(), None, "Cloudflare's URLs stay");
        let c = parse(&[
            "--cf-api-base",
            "http://127.0.0.1:9/client/v4/",
            "--delivery-base",
            "http://127.0.0.1:9/",
        ]);
        let client = c.client(Secret::new("t")).unwrap();
        assert_eq!(client.base, "http://127.0.0.1:9/client/v4");
        assert_eq!(
            c.delivery_base().unwrap().as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert!(parse(&["--cf-api-base", "nope"])
            .client(Secret::new("t"))
            .is_err());
        assert!(parse(&["--delivery-base", "ftp://x"])
            .delivery_base()
            .is_err());
    }

    #[test]
    fn go_live_settings() {
        assert_eq!(parse(&[]).auth_settings().unwrap(), None, "off by default");
        assert!(parse(&["--jitsi-app-id", "app"]).auth_settings().is_err());
        let a = parse(&["--jitsi-app-id", "app", "--jitsi-app-secret", "s3cret"])
            .auth_settings()
            .unwrap()
            .unwrap();
        assert_eq!(a.mode, KeyMode::Secret(Secret::new("s3cret")));
        assert_eq!(
            (a.issuers, a.audiences),
            (vec!["app".to_string()], vec!["app".to_string()])
        );
        let a = parse(&[
            "--jitsi-app-id",
            "app",
            "--jitsi-asap-key-server",
            "https://keys.example.com/asap/",
            "--jitsi-accepted-audiences",
            "jitsi, app",
            "--jitsi-domain",
            "meet.example.com",
        ])
        .auth_settings()
        .unwrap()
        .unwrap();
        assert_eq!(
            a.mode,
            KeyMode::KeyServer("https://keys.example.com/asap".into())
        );
        assert_eq!(a.audiences, vec!["jitsi", "app"]);
        assert_eq!(a.domain.as_deref(), Some("meet.example.com"));
        assert!(Config::try_parse_from([
            "backend",
            "--cf-account",
            "a",
            "--jitsi-app-secret",
            "x",
            "--jitsi-asap-key-server",
            "https://k"
        ])
        .is_err());
        assert!(Config::try_parse_from([
            "backend",
            "--cf-account",
            "a",
            "--jitsi-token-leeway-seconds",
            "61"
        ])
        .is_err());
        let l = parse(&["--live-allowed-origins", "a.example, b.example"])
            .live_settings("http://127.0.0.1:8080")
            .unwrap();
        assert_eq!(l.public_url, "http://127.0.0.1:8080");
        assert_eq!(l.allowed_origins, vec!["a.example", "b.example"]);
        assert_eq!(l.timeout_seconds, 10);
    }

    #[test]
    fn token_file_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "  file-token\n").unwrap();
        let c = parse(&["--cf-api-token-file", f.to_str().unwrap()]);
        assert_eq!(c.read_token().unwrap().expose(), "file-token");
        std::fs::write(&f, "\n").unwrap();
        assert!(c.read_token().unwrap_err().contains("empty"));
        let missing = parse(&["--cf-api-token-file", "/nonexistent/token"]);
        assert!(missing.read_token().is_err());
        let both = Config::try_parse_from([
            "backend",
            "--cf-account",
            "a",
            "--cf-api-token",
            "abc-secret",
            "--cf-api-token-file",
            "/x",
        ]);
        let err = both.unwrap_err().to_string();
        assert!(!err.contains("abc-secret"), "{err}");
        let c = parse(&["--cf-api-token", "abc-secret"]);
        assert!(!format!("{c:?}").contains("abc-secret"));
    }
}
