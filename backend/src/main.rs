use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// `backend mint-token`: prints a token for trying go-live (the demo's
/// moderator link), signed with the app secret from the environment.
#[derive(Debug, Parser)]
#[command(name = "backend mint-token")]
struct MintArgs {
    /// The room the token is for (`*`: any).
    #[arg(long, default_value = "*")]
    room: String,
    #[arg(long, env = "JITSI_APP_ID")]
    app_id: String,
    #[arg(long, env = "JITSI_APP_SECRET", hide_env_values = true)]
    app_secret: stream_api::Secret,
    /// The Jitsi domain (`sub`).
    #[arg(long, env = "JITSI_DOMAIN", default_value = "*")]
    sub: String,
    #[arg(long, default_value = "Moderator")]
    name: String,
    /// How long it is valid, e.g. `12h`.
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
    ttl: Duration,
}

fn mint_token(args: impl Iterator<Item = String>) -> ExitCode {
    let a = MintArgs::parse_from(args);
    let req = backend::auth::MintRequest {
        app_id: a.app_id,
        room: a.room,
        sub: a.sub,
        user_name: a.name,
        ttl: a.ttl,
    };
    match backend::auth::mint_hs256(&a.app_secret, &req) {
        Ok(t) => {
            println!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("backend mint-token: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("mint-token") {
        return mint_token(std::env::args().skip(1));
    }
    let cfg = backend::config::Config::parse();
    http_common::serve::main("backend", backend::app::run(cfg))
}
