//! Which words say what: the machine and the view speak in codes
//! ([`Phase`], [`Notice`], [`ConfigError`]); this module names the
//! [`Key`] of each, whose words come from the viewer's catalogue
//! (`crate::i18n`). Hosts' events carry the English words
//! ([`Key::english`]): they are for the host's code, not the viewer.

use crate::config::ConfigError;
use crate::i18n::Key;
use crate::machine::{Notice, Phase};

/// The headline for each state (also what screen readers hear).
pub fn headline(phase: Phase) -> Key {
    match phase {
        Phase::Loading => Key::StateLoading,
        Phase::Waiting => Key::StateWaiting,
        Phase::Starting => Key::StateStarting,
        Phase::Live => Key::StateLive,
        Phase::Ended => Key::StateEnded,
        Phase::Replay => Key::StateReplay,
        Phase::Error => Key::StateError,
    }
}

/// The sentence under the headline.
pub fn notice(notice: Notice) -> Key {
    match notice {
        Notice::InputNotFound => Key::InputNotFound,
        Notice::VideoNotFound => Key::VideoNotFound,
        Notice::Forbidden => Key::Forbidden,
        Notice::Busy => Key::Busy,
        Notice::NotAnswering => Key::NotAnswering,
        Notice::Unreadable => Key::Unreadable,
        Notice::Unreachable => Key::Unreachable,
        Notice::LiveUnplayable => Key::LiveUnplayable,
        Notice::VideoUnplayable => Key::VideoUnplayable,
        Notice::Private => Key::Private,
        Notice::AccessUnavailable => Key::AccessUnavailable,
    }
}

/// What is wrong with a host's configuration, and what to pass instead.
pub fn config_error(error: &ConfigError) -> Key {
    match error {
        ConfigError::MissingSource => Key::MissingSource,
        ConfigError::BothSources => Key::BothSources,
        ConfigError::InvalidUid { field: "input" } => Key::InvalidInput,
        ConfigError::InvalidUid { .. } => Key::InvalidVideo,
        ConfigError::InvalidCustomer => Key::InvalidCustomer,
        ConfigError::InvalidBase => Key::InvalidBase,
        ConfigError::BaseAndCustomer => Key::BaseAndCustomer,
        ConfigError::InvalidToken => Key::InvalidToken,
        ConfigError::InvalidEngine => Key::InvalidEngine,
        ConfigError::InvalidRecordings => Key::InvalidRecordings,
        ConfigError::InvalidQoe => Key::InvalidQoe,
        ConfigError::InvalidTokenUrl => Key::InvalidTokenUrl,
        ConfigError::InvalidJwt => Key::InvalidJwt,
        ConfigError::TokenAndTokenUrl => Key::TokenAndTokenUrl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::clock;
    use crate::i18n::Catalogue;

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
            Notice::Private,
            Notice::AccessUnavailable,
        ];
        let mut seen = std::collections::HashSet::new();
        for n in notices {
            let text = notice(n).english();
            assert!(text.ends_with('.'), "{n:?}: a sentence");
            assert!(seen.insert(text), "{n:?}: its own words");
        }
        assert!(notice(Notice::InputNotFound)
            .english()
            .contains("not found"));
        assert!(notice(Notice::VideoNotFound).english().contains("video"));
        let en = Catalogue::english();
        assert_eq!(
            en.fill(Key::RetryIn, &[("seconds", "5")]),
            "Trying again in 5 s"
        );
        assert_eq!(
            en.fill(Key::WaitingFor, &[("time", &clock(65))]),
            "Waiting for 1:05"
        );
        assert_eq!(
            config_error(&ConfigError::InvalidUid { field: "video" }),
            Key::InvalidVideo
        );
    }
}
