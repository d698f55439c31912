//! Serving helpers both binaries use the same way.

use std::net::IpAddr;

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
