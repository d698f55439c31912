//! The Jitsi app and Cloudflare account the go-live tests share, and a
//! moderator token for a room.

use std::time::Duration;

use backend::account_client::{AccountClient, ClientConfig};
use backend::auth::{mint_hs256, AuthSettings, JitsiAuth, KeyMode, MintRequest};
use stream_api::Secret;

pub const CF_TOKEN: &str = "cf-test-token-0123456789abcdef";
pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const APP: &str = "my-app";
pub const SECRET: &str = "jitsi-secret-for-tests";
/// The input of the real live-input-create.json the fake answers.
pub const INPUT: &str = "f256e6ea9341d51eea64c9454659e576";

/// A moderator's HS256 token for `room`, valid for 10 minutes.
pub fn token(room: &str) -> String {
    mint_hs256(
        &Secret::new(SECRET),
        &MintRequest {
            app_id: APP.into(),
            room: room.into(),
            sub: "meet.example.com".into(),
            user_name: "Ada".into(),
            ttl: Duration::from_secs(600),
        },
    )
    .unwrap()
}

/// The check of this app's tokens (HS256 with [`SECRET`], tenant
/// `meet.example.com`), allowing `leeway_seconds` of clock skew.
pub fn auth(leeway_seconds: u64) -> JitsiAuth {
    JitsiAuth::new(AuthSettings {
        app_id: APP.into(),
        mode: KeyMode::Secret(Secret::new(SECRET)),
        issuers: vec![APP.into()],
        audiences: vec![APP.into()],
        domain: Some("meet.example.com".into()),
        leeway_seconds,
    })
    .unwrap()
}

/// The account API client of [`ACCOUNT`] with [`CF_TOKEN`], against `base`
/// (a fake Cloudflare's).
pub fn account_client(base: &str) -> AccountClient {
    AccountClient::new(ClientConfig {
        base: base.into(),
        account: ACCOUNT.into(),
        token: Secret::new(CF_TOKEN),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}
