//! Validation of the identifiers that reach the account API's URL space.

/// A Cloudflare input or video uid as callers may name it: `[A-Za-z0-9_-]{1,64}`
/// (Cloudflare's are 32 hex characters; the local stand-in allows names).
pub fn is_valid_uid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids() {
        for ok in ["demo", "a", "023e105f4ecef8ad9ca31a8372d0c353", "x_y-z"] {
            assert!(is_valid_uid(ok), "{ok}");
        }
        for bad in ["", "a/b", "a b", "ä", "..", &"a".repeat(65)] {
            assert!(!is_valid_uid(bad), "{bad}");
        }
    }
}
