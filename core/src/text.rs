//! The words the viewer reads, in English. The machine and the view speak
//! in codes ([`Phase`], [`Notice`], [`ConfigError`]); this module turns them
//! into words, so a translation is one more file like this one.

use crate::config::ConfigError;
use crate::format::{clock, compact_count};
use crate::machine::{Notice, Phase};

/// The headline for each state (also what screen readers hear).
pub fn headline(phase: Phase) -> &'static str {
    match phase {
        Phase::Loading => "Loading the stream…",
        Phase::Waiting => "The stream will start soon",
        Phase::Starting => "The broadcast is starting…",
        Phase::Live => "Live now",
        Phase::Ended => "The stream has ended",
        Phase::Replay => "Playing the recording",
        Phase::Error => "The stream can't be shown right now",
    }
}

/// The sentence under the headline.
pub fn notice(notice: Notice) -> &'static str {
    match notice {
        Notice::InputNotFound => {
            "This live stream was not found. Check the input id in the address."
        }
        Notice::VideoNotFound => "This video was not found. Check the video id in the address.",
        Notice::Forbidden => "This stream is not available to you: the link may have expired.",
        Notice::Busy => "The stream service is busy right now.",
        Notice::NotAnswering => "The stream service is not answering.",
        Notice::Unreadable => "The stream service sent an answer we could not read.",
        Notice::Unreachable => "We can't reach the stream service.",
        Notice::LiveUnplayable => "The stream is live but can't be played right now.",
        Notice::VideoUnplayable => "This video can't be played right now.",
    }
}

/// What is wrong with a host's configuration, and what to pass instead.
pub fn config_error(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::MissingSource => {
            "Nothing to play: give a live input id (input) or a video id (video)."
        }
        ConfigError::BothSources => "Give either input or video, not both.",
        ConfigError::InvalidUid { field: "input" } => {
            "The input id is not valid: use the live input's id from Cloudflare Stream (letters, digits, - and _)."
        }
        ConfigError::InvalidUid { .. } => {
            "The video id is not valid: use the video's id from Cloudflare Stream (letters, digits, - and _)."
        }
        ConfigError::InvalidCustomer => {
            "The customer code is not valid: use the code from customer-<code>.cloudflarestream.com."
        }
        ConfigError::InvalidBase => {
            "The base address is not valid: use an http:// or https:// address without a query, e.g. https://videodelivery.net."
        }
        ConfigError::BaseAndCustomer => "Give either customer or base, not both.",
        ConfigError::InvalidToken => {
            "The token is not valid: pass the signed token as Cloudflare issued it."
        }
        ConfigError::InvalidEngine => "The engine is not valid: use auto, native or hlsjs.",
        ConfigError::InvalidRecordings => {
            "The recordings address is not valid: use an http(s):// address or a path starting with /."
        }
        ConfigError::InvalidQoe => {
            "The qoe option is not valid: use 0 to send no viewing figures, or an http(s):// address or a path starting with / to send them to."
        }
    }
}

/// "Trying again in 5 s".
pub fn retry_in(secs: u64) -> String {
    format!("Trying again in {secs} s")
}

/// "Waiting for 1:05".
pub fn waiting_for(secs: u64) -> String {
    format!("Waiting for {}", clock(secs))
}

/// "1.2K watching".
pub fn viewers(n: u64) -> String {
    format!("{} watching", compact_count(n))
}

pub const NEXT_BROADCAST: &str = "The next broadcast will start here.";
pub const LIVE_NOW: &str = "Live now";
pub const BACK_TO_WAITING: &str = "Back to waiting";

// The view's fixed labels ("Try again", "Recordings", the buttons' names)
// stay literals in src/components: Leptos bakes literals into its templates,
// and as constants from here they cost 1.4 KB gzip of wasm. A translation
// moves them here.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_words() {
        let notices = [
            Notice::InputNotFound,
            Notice::VideoNotFound,
            Notice::Forbidden,
            Notice::Busy,
            Notice::NotAnswering,
            Notice::Unreadable,
            Notice::Unreachable,
            Notice::LiveUnplayable,
            Notice::VideoUnplayable,
        ];
        let mut seen = std::collections::HashSet::new();
        for n in notices {
            let text = notice(n);
            assert!(text.ends_with('.'), "{n:?}: a sentence");
            assert!(seen.insert(text), "{n:?}: its own words");
        }
        assert!(notice(Notice::InputNotFound).contains("not found"));
        assert!(notice(Notice::VideoNotFound).contains("video"));
        assert_eq!(retry_in(5), "Trying again in 5 s");
        assert_eq!(waiting_for(65), "Waiting for 1:05");
        assert_eq!(viewers(1_234), "1.2K watching");
    }
}
