//! Secrets (the Cloudflare API token) that must never be printed: not in a
//! log line, an error, an answer or a `{:?}`.

use std::fmt;
use std::str::FromStr;

/// A secret string. `Debug` and `Display` print `***`; only
/// [`Secret::expose`] gives the text, for the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// 256 random bits as 64 lowercase hex characters.
    pub fn random() -> Self {
        Self(format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        ))
    }

    /// The secret text. Call it only to put the secret where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares in time independent of where the first difference is.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        let mut diff = a.len() ^ b.len();
        for (i, x) in a.iter().enumerate() {
            let y = b.get(i).copied().unwrap_or(0);
            diff |= usize::from(x ^ y);
        }
        diff == 0
    }

    /// `text` with every occurrence of the secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// For clap: a token given on the command line or in the environment
/// (surrounding whitespace dropped, as when it comes from a file).
impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            Err("the token is empty".into())
        } else {
            Ok(Self(t.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2-token");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "hunter2-token");
        assert_eq!(s.redact("x hunter2-token y"), "x *** y");
        assert_eq!(Secret::new("").redact("abc"), "abc");
    }

    #[test]
    fn compares_whole_strings() {
        let s = Secret::new("abc");
        assert!(s.matches("abc"));
        for bad in ["", "ab", "abcd", "abd", "ABC"] {
            assert!(!s.matches(bad), "{bad}");
        }
        assert!(!Secret::new("").matches("x"));
    }

    #[test]
    fn random_and_parsed() {
        let a = Secret::random();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, Secret::random());
        assert_eq!("  tok\n".parse::<Secret>().unwrap().expose(), "tok");
        assert!(" \n".parse::<Secret>().is_err());
    }
}
