//! The viewer's language: which one (the `lang` option, else the browser's
//! languages, else English), and the words in it.
//!
//! Every sentence the player shows is a [`Key`]. English is built in
//! ([`Key::english`]); every other language is one flat JSON catalogue,
//! `public/i18n/<tag>.json` (`{"state-live": "Live", …}`), fetched at start
//! by the viewers who read it and nobody else. A key a catalogue lacks, or
//! whose placeholders differ from English, reads in English.
//!
//! A plain table and not Fluent: Fluent's runtime measured 64.6 KB gzip of
//! wasm on its own against 17.9 KB for the same job as a table (see
//! docs/notes/i18n.md), and no sentence here needs its plural rules: numbers
//! stand before a unit ("12 s") or a label ("Zuschauer: 1,2 Mio.").

use crate::json::JsonObject;

/// The languages with a catalogue. Arabic is there as the proof that the
/// player mirrors for right-to-left scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    De,
    Fr,
    Es,
    PtBr,
    It,
    Nl,
    Pl,
    Ja,
    ZhHans,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 11] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::PtBr,
        Lang::It,
        Lang::Nl,
        Lang::Pl,
        Lang::Ja,
        Lang::ZhHans,
        Lang::Ar,
    ];

    /// The BCP 47 tag: the `lang` attribute, the `Intl` locale and the
    /// catalogue's file name.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::PtBr => "pt-BR",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Pl => "pl",
            Lang::Ja => "ja",
            Lang::ZhHans => "zh-Hans",
            Lang::Ar => "ar",
        }
    }

    pub fn rtl(self) -> bool {
        self == Lang::Ar
    }

    /// The language a BCP 47 tag asks for, if we have it: `de-AT` → German,
    /// any Portuguese → Brazilian, Chinese in simplified script (`zh`,
    /// `zh-CN`, `zh-SG`, `zh-Hans-*`) → `zh-Hans`; traditional (`zh-TW`,
    /// `zh-HK`, `zh-Hant`) → none, so that the next choice is tried.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        // Compared without allocating: this runs in the viewer's wasm.
        let mut parts = tag.trim().split(['-', '_']);
        let primary = parts.next()?;
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        Some(match () {
            _ if is(primary, "en") => Lang::En,
            _ if is(primary, "de") => Lang::De,
            _ if is(primary, "fr") => Lang::Fr,
            _ if is(primary, "es") => Lang::Es,
            _ if is(primary, "pt") => Lang::PtBr,
            _ if is(primary, "it") => Lang::It,
            _ if is(primary, "nl") => Lang::Nl,
            _ if is(primary, "pl") => Lang::Pl,
            _ if is(primary, "ja") => Lang::Ja,
            _ if is(primary, "ar") => Lang::Ar,
            _ if is(primary, "zh") => {
                let (mut traditional, mut simplified) = (false, false);
                for p in parts {
                    traditional |= ["hant", "tw", "hk", "mo"].iter().any(|t| is(p, t));
                    simplified |= is(p, "hans");
                }
                if traditional && !simplified {
                    return None;
                }
                Lang::ZhHans
            }
            _ => return None,
        })
    }

    /// The language to show: the host's `lang` option when we have it, else
    /// the first of the browser's languages we have, else English.
    pub fn choose<'a>(option: Option<&str>, browser: impl IntoIterator<Item = &'a str>) -> Lang {
        option
            .and_then(Lang::from_tag)
            .or_else(|| browser.into_iter().find_map(Lang::from_tag))
            .unwrap_or_default()
    }
}

macro_rules! keys {
    ($($variant:ident $name:literal $english:literal,)*) => {
        /// One sentence or label the viewer reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key { $($variant,)* }

        impl Key {
            pub const ALL: &'static [Key] = &[$(Key::$variant,)*];

            /// The catalogue's name for it.
            pub fn name(self) -> &'static str {
                match self { $(Key::$variant => $name,)* }
            }

            /// The built-in English words (also what hosts' events carry).
            pub fn english(self) -> &'static str {
                match self { $(Key::$variant => $english,)* }
            }
        }
    };
}

keys! {
    StateLoading "state-loading" "Loading the stream…",
    StateWaiting "state-waiting" "The stream will start soon",
    StateStarting "state-starting" "The broadcast is starting…",
    StateLive "state-live" "Live now",
    StateEnded "state-ended" "The stream has ended",
    StateReplay "state-replay" "Playing the recording",
    StateError "state-error" "The stream can't be shown right now",
    PlayerUnavailable "player-unavailable" "The player could not be loaded. It will try again by itself.",
    InputNotFound "notice-input-not-found" "This live stream was not found. Check the input id in the address.",
    VideoNotFound "notice-video-not-found" "This video was not found. Check the video id in the address.",
    Forbidden "notice-forbidden" "This stream is not available to you: the link may have expired.",
    Busy "notice-busy" "The stream service is busy right now.",
    NotAnswering "notice-not-answering" "The stream service is not answering.",
    Unreadable "notice-unreadable" "The stream service sent an answer we could not read.",
    Unreachable "notice-unreachable" "We can't reach the stream service.",
    LiveUnplayable "notice-live-unplayable" "The stream is live but can't be played right now.",
    VideoUnplayable "notice-video-unplayable" "This video can't be played right now.",
    Private "notice-private" "This broadcast is private: you need an invitation link.",
    AccessUnavailable "notice-access-unavailable" "We can't get access to this private broadcast right now.",
    ConfigTitle "config-title" "This player needs a stream to show",
    ConfigExample "config-example" "Example:",
    MissingSource "config-missing-source" "Nothing to play: give a live input id (input) or a video id (video).",
    BothSources "config-both-sources" "Give either input or video, not both.",
    InvalidInput "config-invalid-input" "The input id is not valid: use the live input's id from Cloudflare Stream (letters, digits, - and _).",
    InvalidVideo "config-invalid-video" "The video id is not valid: use the video's id from Cloudflare Stream (letters, digits, - and _).",
    InvalidCustomer "config-invalid-customer" "The customer code is not valid: use the code from customer-<code>.cloudflarestream.com.",
    InvalidBase "config-invalid-base" "The base address is not valid: use an http:// or https:// address without a query, e.g. https://videodelivery.net.",
    BaseAndCustomer "config-base-and-customer" "Give either customer or base, not both.",
    InvalidToken "config-invalid-token" "The token is not valid: pass the signed token as Cloudflare issued it.",
    InvalidEngine "config-invalid-engine" "The engine is not valid: use auto, native or hlsjs.",
    InvalidRecordings "config-invalid-recordings" "The recordings address is not valid: use an http(s):// address or a path starting with /.",
    InvalidTokenUrl "config-invalid-token-url" "The tokenUrl option is not valid: use an http(s):// address or a path starting with /.",
    InvalidJwt "config-invalid-jwt" "The jwt option is not valid: pass the Jitsi token as issued, together with tokenUrl.",
    TokenAndTokenUrl "config-token-and-token-url" "Give either token or tokenUrl, not both.",
    InvalidQoe "config-invalid-qoe" "The qoe option is not valid: use 0 to send no viewing figures, or an http(s):// address or a path starting with / to send them to.",
    RetryIn "retry-in" "Trying again in {seconds} s",
    WaitingFor "waiting-for" "Waiting for {time}",
    NextBroadcast "next-broadcast" "The next broadcast will start here.",
    Viewers "viewers" "{count} watching",
    BehindLive "behind-live" "{seconds} s behind live",
    LiveBadge "live-badge" "Live",
    TryAgain "try-again" "Try again",
    TapToUnmute "tap-to-unmute" "Tap to unmute",
    Play "play" "Play",
    Pause "pause" "Pause",
    Mute "mute" "Mute",
    Unmute "unmute" "Unmute",
    Volume "volume" "Volume",
    GoLive "go-live" "Go to live",
    Fullscreen "fullscreen" "Full screen",
    Pip "pip" "Picture in picture",
    Quality "quality" "Quality",
    QualityAuto "quality-auto" "Auto",
    Controls "controls" "Player controls",
    VideoLabel "video-label" "Live stream video",
    PlayerLabel "player-label" "Video player",
    LiveNow "leave-to-live" "Live now",
    BackToWaiting "leave-to-waiting" "Back to waiting",
    Recordings "recordings" "Recordings",
    RecordingSoon "recording-soon" "The recording will be available shortly.",
    RecordingsFailed "recordings-failed" "Recordings can't be loaded right now.",
    PageName "page-name" "Meeting live stream",
    PageTitle "page-title" "Live stream",
    PageNote "page-note" "The stream starts here by itself when the meeting goes live: no need to reload.",
}

/// The longest text a catalogue may give one key (a bound on network input).
pub const MAX_TEXT: usize = 400;

/// The `{name}` placeholders of a text, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((_, after)) = rest.split_once('{') {
        let Some((name, tail)) = after.split_once('}') else {
            break;
        };
        out.push(name);
        rest = tail;
    }
    out
}

/// `{name}` in `text` replaced by its value; an unknown name stays as it is.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let value = after
            .split_once('}')
            .and_then(|(name, tail)| Some((args.iter().find(|(n, _)| *n == name)?.1, tail)));
        match value {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The words in one language, English where it has none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalogue {
    lang: Lang,
    texts: Vec<Option<String>>,
}

impl Catalogue {
    /// English: the built-in words.
    pub fn english() -> Self {
        Catalogue::default()
    }

    /// Reads a fetched catalogue. Keys it lacks, texts too long, and texts
    /// whose placeholders differ from English's stay English: a slip in one
    /// translation never shows a raw `{count}` or drops a number.
    pub fn read(lang: Lang, json: &impl JsonObject) -> Self {
        let texts = Key::ALL
            .iter()
            .map(|key| {
                json.string(key.name()).filter(|text| {
                    !text.trim().is_empty()
                        && text.len() <= MAX_TEXT
                        && same_placeholders(text, key.english())
                })
            })
            .collect();
        Catalogue { lang, texts }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn get(&self, key: Key) -> &str {
        self.texts
            .get(key as usize)
            .and_then(Option::as_deref)
            .unwrap_or(key.english())
    }

    /// The text of `key` with its placeholders filled.
    pub fn fill(&self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.get(key), args)
    }
}

/// Whether two texts have the same placeholders (in any order).
pub fn same_placeholders(a: &str, b: &str) -> bool {
    let (a, b) = (placeholders(a), placeholders(b));
    let count = |list: &[&str], name: &str| list.iter().filter(|n| **n == name).count();
    a.len() == b.len() && a.iter().all(|name| count(&a, name) == count(&b, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn choosing_the_language() {
        let table: &[(Option<&str>, &[&str], Lang)] = &[
            (Some("de"), &["fr-FR"], Lang::De),
            (Some("DE-at"), &[], Lang::De),
            (Some("pt"), &[], Lang::PtBr),
            (Some("pt-PT"), &[], Lang::PtBr),
            (Some("pt_BR"), &[], Lang::PtBr),
            (Some("zh"), &[], Lang::ZhHans),
            (Some("zh-CN"), &[], Lang::ZhHans),
            (Some("zh-Hans-HK"), &[], Lang::ZhHans),
            (Some("ar-EG"), &[], Lang::Ar),
            // An option we have no catalogue for: the browser's, then English.
            (Some("sv"), &["nl-BE", "en"], Lang::Nl),
            (Some("sv"), &[], Lang::En),
            (Some(""), &["ja-JP"], Lang::Ja),
            // Traditional Chinese readers get their next language.
            (None, &["zh-TW", "en-GB"], Lang::En),
            (None, &["zh-Hant", "ja"], Lang::Ja),
            (None, &["es-419", "en"], Lang::Es),
            (None, &["ko", "it-CH"], Lang::It),
            (None, &["pl"], Lang::Pl),
            (None, &[], Lang::En),
        ];
        for (option, browser, want) in table {
            assert_eq!(
                Lang::choose(*option, browser.iter().copied()),
                *want,
                "{option:?} {browser:?}"
            );
        }
    }

    #[test]
    fn tags_round_trip_and_only_arabic_is_rtl() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
            assert_eq!(lang.rtl(), lang == Lang::Ar);
        }
    }

    #[test]
    fn keys_have_distinct_names_and_english() {
        let names: BTreeSet<_> = Key::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), Key::ALL.len());
        for (i, key) in Key::ALL.iter().enumerate() {
            assert_eq!(*key as usize, i, "ALL is in declaration order");
            assert!(!key.english().is_empty());
        }
    }

    #[test]
    fn placeholders_and_filling() {
        assert_eq!(placeholders("{count} watching"), ["count"]);
        assert_eq!(placeholders("a {x} b {y}"), ["x", "y"]);
        assert!(placeholders("no braces").is_empty());
        assert!(same_placeholders("Zuschauer: {count}", "{count} watching"));
        assert!(!same_placeholders("{n} watching", "{count} watching"));
        assert!(!same_placeholders("watching", "{count} watching"));
        assert_eq!(
            fill("{seconds} s behind live", &[("seconds", "12")]),
            "12 s behind live"
        );
        assert_eq!(fill("{a}{b} {a}", &[("a", "1"), ("b", "2")]), "12 1");
        assert_eq!(fill("{x} {a", &[("a", "1")]), "{x} {a");
        assert_eq!(fill("é{a}ü", &[("a", "–")]), "é–ü");
        assert!(same_placeholders("{a} {b}", "{b} {a}"));
        assert!(!same_placeholders("{a} {a}", "{a} {b}"));
        let en = Catalogue::english();
        assert_eq!(en.fill(Key::Viewers, &[("count", "1.2K")]), "1.2K watching");
        assert_eq!(en.get(Key::StateLive), "Live now");
    }

    #[test]
    fn a_catalogue_falls_back_to_english_key_by_key() {
        let json = serde_json::json!({
            "state-live": "Jetzt live",
            "viewers": "Zuschauer: {count}",
            // Wrong placeholder: would show a raw {n}.
            "behind-live": "{n} s hinter live",
            "try-again": "",
            "recordings": "x".repeat(MAX_TEXT + 1),
            "unknown-key": "ignored",
        });
        let de = Catalogue::read(Lang::De, &json);
        assert_eq!(de.lang(), Lang::De);
        assert_eq!(de.get(Key::StateLive), "Jetzt live");
        assert_eq!(
            de.fill(Key::Viewers, &[("count", "1,2 Mio.")]),
            "Zuschauer: 1,2 Mio."
        );
        assert_eq!(de.get(Key::BehindLive), Key::BehindLive.english());
        assert_eq!(de.get(Key::TryAgain), "Try again");
        assert_eq!(de.get(Key::Recordings), "Recordings");
        assert_eq!(de.get(Key::Pause), "Pause");
    }

    /// Every catalogue in public/i18n has every key English has, no other
    /// keys, the same placeholders, and there is one per language.
    #[test]
    fn every_catalogue_is_complete() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../public/i18n");
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("public/i18n") {
            let path = entry.expect("entry").path();
            let tag = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let lang =
                Lang::from_tag(tag).unwrap_or_else(|| panic!("{tag}: not a language of ours"));
            assert_eq!(lang.tag(), tag, "file named by the exact tag");
            assert_ne!(lang, Lang::En, "English is built in");
            let text = std::fs::read_to_string(&path).expect("read");
            let json: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{tag}: {e}"));
            for key in Key::ALL {
                let value = json.get(key.name()).and_then(|v| v.as_str());
                let value = value.unwrap_or_else(|| panic!("{tag}: lacks {}", key.name()));
                assert!(!value.trim().is_empty(), "{tag}: {} is empty", key.name());
                assert!(value.len() <= MAX_TEXT, "{tag}: {} too long", key.name());
                assert!(
                    same_placeholders(value, key.english()),
                    "{tag}: {} has placeholders {:?}, English {:?}",
                    key.name(),
                    placeholders(value),
                    placeholders(key.english())
                );
            }
            for name in json.keys() {
                assert!(
                    Key::ALL.iter().any(|k| k.name() == name),
                    "{tag}: unknown key {name}"
                );
            }
            // Nothing read falls back: the runtime reads it whole.
            let cat = Catalogue::read(lang, &serde_json::Value::Object(json.clone()));
            for key in Key::ALL {
                assert_eq!(cat.get(*key), json[key.name()].as_str().unwrap_or_default());
            }
            found.insert(lang);
        }
        let want: BTreeSet<_> = Lang::ALL.into_iter().filter(|l| *l != Lang::En).collect();
        assert_eq!(found, want, "one catalogue per language");
    }
}
