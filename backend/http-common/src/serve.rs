//! Serving helpers both binaries use the same way.

use std::future::Future;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing_subscriber::EnvFilter;

/// A server binary's `main` after its flags are read: logs to stderr
/// (`RUST_LOG`, default `info`), runs `app` on a multi-threaded runtime
/// and turns its error into one line and a failing exit code.
pub fn main<F>(name: &str, app: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(app);
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Waits for SIGINT/SIGTERM (`Ok`: shut down gracefully) or for the HTTP
/// server task to end on its own, which is an error either way.
pub async fn until_signal(
    server: &mut JoinHandle<Result<(), std::io::Error>>,
) -> Result<(), String> {
    tokio::select! {
        () = shutdown_signal() => {
            tracing::info!("signal received: shutting down");
            Ok(())
        }
        r = server => Err(match r {
            Ok(Ok(())) => "HTTP server stopped".into(),
            Ok(Err(e)) => format!("HTTP server failed: {e}"),
            Err(e) => format!("HTTP server failed: {e}"),
        }),
    }
}

/// The host to print in a URL for a bound address: an unspecified address
/// (listening on all) is reached through loopback, and IPv6 is bracketed.
pub fn shown_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".into(),
        IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".into(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_hosts() {
        assert_eq!(shown_host("0.0.0.0".parse().unwrap()), "127.0.0.1");
        assert_eq!(shown_host("::".parse().unwrap()), "[::1]");
        assert_eq!(shown_host("::1".parse().unwrap()), "[::1]");
        assert_eq!(shown_host("127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(shown_host("2001:db8::1".parse().unwrap()), "[2001:db8::1]");
    }
}
