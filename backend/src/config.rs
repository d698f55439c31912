//! Command line and environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use stream_api::Secret;

use crate::account_client::{normalize_base, ClientConfig, CLOUDFLARE_API_BASE};

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

    /// Seconds a recordings list is fresh (one account API call per input
    /// per TTL, however many viewers).
    #[arg(long, env = "RECORDINGS_TTL_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub recordings_ttl_seconds: u64,

    /// Inputs whose recordings list is kept in memory (least recently used go).
    #[arg(long, env = "RECORDINGS_CACHE_INPUTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub recordings_cache_inputs: u64,

    #[command(flatten)]
    pub qoe: crate::qoe::QoeConfig,
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
