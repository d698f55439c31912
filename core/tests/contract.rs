//! The contracts that cross Rust, JS and TypeScript are written once, in
//! core; this test reads the package's embed/index.js and embed/index.d.ts
//! and fails when they disagree with it: option keys, states, event names,
//! error codes, metric types, the wasm-load backoff and the error card.

use player_core::config::RawConfig;
use player_core::events::{HostEvent, Metric};
use player_core::machine::{ErrorCode, Phase};
use player_core::policy::{Backoff, ORIGIN_RETRY};
use player_core::text::headline;
use std::collections::BTreeSet;

fn read(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The text from `start` (which must be there) to the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let i = text
        .find(start)
        .unwrap_or_else(|| panic!("missing `{start}`"))
        + start.len();
    let j = text[i..]
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}` after `{start}`"));
    &text[i..i + j]
}

/// Every '…' or "…" literal in `text`, in order.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[i] as char;
        let after = &rest[i + 1..];
        let Some(j) = after.find(q) else { break };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

/// The member names of a TypeScript interface body (`name?: …` or `name: …`).
fn members(body: &str) -> BTreeSet<String> {
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("/*") && !l.starts_with('*') && !l.starts_with("//"))
        .filter_map(|l| {
            l.split_once(':')
                .map(|(name, _)| name.trim_end_matches('?'))
        })
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric()))
        .map(str::to_string)
        .collect()
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_string).collect()
}

/// A number as JS writes it (`60_000`).
fn js_number(text: &str) -> u64 {
    text.trim()
        .replace('_', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text}"))
}

#[test]
fn option_keys_agree() {
    let rust = set(RawConfig::KEYS);
    let js = read("embed/index.js");
    let dts = read("embed/index.d.ts");
    let keys = quoted(between(&js, "const KEYS = [", "]"));
    assert_eq!(set(keys.iter().map(String::as_str)), rust, "index.js KEYS");
    let mut attrs = quoted(between(&js, "const STRING_ATTRS = [", "]"));
    attrs.extend(quoted(between(&js, "const FLAG_ATTRS = [", "]")));
    // Attributes are kebab-case (`token-url`), options camelCase (`tokenUrl`).
    let camel = |a: &String| {
        let mut out = String::new();
        let mut up = false;
        for c in a.chars() {
            match (c, up) {
                ('-', _) => up = true,
                (c, true) => {
                    out.extend(c.to_uppercase());
                    up = false;
                }
                (c, false) => out.push(c),
            }
        }
        out
    };
    let attrs: Vec<String> = attrs.iter().map(camel).collect();
    assert_eq!(
        set(attrs.iter().map(String::as_str)),
        rust,
        "index.js attributes"
    );
    assert!(
        js.contains(r"name.replace(/-([a-z])/g, (_, c) => c.toUpperCase())"),
        "index.js maps attributes to options as this test does"
    );
    let options = between(&dts, "export interface PlayerOptions {", "\n}");
    assert_eq!(members(options), rust, "index.d.ts PlayerOptions");
}

/// Regression: index.d.ts said `video` may stand beside `input`, while the
/// config refuses both (one player, one source). The types say what core does.
#[test]
fn one_source_as_the_config_says() {
    use player_core::config::{ConfigError, PlayerConfig};
    let both = RawConfig {
        input: Some("in1".into()),
        video: Some("vid1".into()),
        ..Default::default()
    };
    assert_eq!(
        PlayerConfig::parse(&both, "http://o"),
        Err(ConfigError::BothSources)
    );
    let dts = read("embed/index.d.ts");
    let doc = between(&dts, "/**\n * What a player shows", "*/");
    assert!(
        doc.contains("exactly one of `input` and `video`"),
        "index.d.ts PlayerOptions must say one source: {doc}"
    );
    let options = between(&dts, "export interface PlayerOptions {", "\n}");
    assert!(
        !options.contains("beside `input`"),
        "index.d.ts must not offer `video` beside `input`"
    );
}

#[test]
fn states_agree() {
    let dts = read("embed/index.d.ts");
    let states = quoted(between(&dts, "export type PlayerState =", ";"));
    assert_eq!(
        states,
        Phase::ALL.map(Phase::as_str),
        "index.d.ts PlayerState"
    );
    let harness = read("tests/e2e/harness.mjs");
    let e2e = quoted(between(&harness, "export const STATES = [", "]"));
    assert_eq!(e2e, Phase::ALL.map(Phase::as_str), "e2e harness STATES");
}

#[test]
fn event_names_agree() {
    let js = read("embed/index.js");
    let dts = read("embed/index.d.ts");
    let listed = quoted(between(&js, "PLAYER_EVENTS = Object.freeze([", "]"));
    assert_eq!(listed, HostEvent::NAMES, "index.js PLAYER_EVENTS");
    let map = between(&dts, "export interface JitsiLivePlayerEventMap {", "\n}");
    assert_eq!(members(map), set(HostEvent::NAMES), "index.d.ts event map");
}

#[test]
fn error_codes_agree() {
    let dts = read("embed/index.d.ts");
    let codes = quoted(between(&dts, "export type PlayerErrorCode =", ";"));
    let mut rust = vec![ErrorCode::CONFIG];
    rust.extend(ErrorCode::ALL.map(ErrorCode::as_str));
    assert_eq!(
        set(codes.iter().map(String::as_str)),
        set(rust),
        "index.d.ts PlayerErrorCode"
    );
    // The card index.js shows while the wasm can't load reports a code of ours.
    let js = read("embed/index.js");
    let card = between(&js, "detail: { code: '", "'");
    assert!(ErrorCode::ALL.iter().any(|c| c.as_str() == card), "{card}");
}

#[test]
fn metric_types_agree() {
    let dts = read("embed/index.d.ts");
    let union = between(&dts, "export type MetricsDetail =", ";\n");
    let types: Vec<String> = union
        .split("type: ")
        .skip(1)
        .filter_map(|t| quoted(t).into_iter().next())
        .collect();
    assert_eq!(types, Metric::NAMES, "index.d.ts MetricsDetail");
}

#[test]
fn the_wasm_load_backs_off_as_the_stream() {
    let js = read("embed/index.js");
    let retry = between(&js, "const RETRY = Object.freeze({", "})");
    let field = |name: &str| js_number(between(retry, &format!("{name}: "), ","));
    let max = js_number(retry.split("maxDelayMs: ").nth(1).unwrap_or_default());
    assert_eq!(field("delayMs"), ORIGIN_RETRY.delay_ms);
    assert_eq!(max, ORIGIN_RETRY.max_delay_ms);
    assert_eq!(ORIGIN_RETRY.backoff, Backoff::Exponential);
    assert!(js.contains("Math.min(RETRY.maxDelayMs, RETRY.delayMs * 2 ** failures++)"));
}

/// The watch page's loader fetches the player's files itself
/// (`__jlpFetchPlayer` in index.html): its retries and its note are the
/// package's and core's.
#[test]
fn the_watch_page_fetches_its_player_as_the_package_does() {
    let html = read("index.html");
    let retry = between(&html, "var RETRY = {", "}");
    let field = |name: &str| between(retry, &format!("{name}: "), ",").trim().to_string();
    assert_eq!(js_number(&field("delayMs")), ORIGIN_RETRY.delay_ms);
    assert_eq!(js_number(&field("maxDelayMs")), ORIGIN_RETRY.max_delay_ms);
    let jitter: f64 = retry
        .split("jitter: ")
        .nth(1)
        .and_then(|j| j.trim().parse().ok())
        .expect("jitter");
    assert_eq!(jitter, ORIGIN_RETRY.jitter);
    assert_eq!(ORIGIN_RETRY.backoff, Backoff::Exponential);
    assert!(html.contains("Math.min(RETRY.maxDelayMs, RETRY.delayMs * Math.pow(2, n))"));
    assert!(html.contains("(1 - RETRY.jitter + 2 * RETRY.jitter * Math.random())"));
    let note = between(&html, "note.textContent = \"", "\"");
    assert_eq!(note, player_core::i18n::Key::PlayerUnavailable.english());
}

#[test]
fn the_fallback_card_reads_as_the_players() {
    let js = read("embed/index.js");
    let title = between(&js, "words(\"", "\"");
    assert_eq!(title, headline(Phase::Error).english());
    let message = between(&js, "const message = '", "'");
    assert_eq!(message, player_core::i18n::Key::PlayerUnavailable.english());
    // Its language is chosen in JS, from the same list as core's.
    let langs = between(&js, "const LANGS = [", "]");
    let tags: Vec<String> = player_core::i18n::Lang::ALL
        .iter()
        .map(|l| format!("'{}'", l.tag()))
        .collect();
    assert_eq!(langs, tags.join(", "));
    assert!(js.contains("c?.['state-error']") && js.contains("c?.['player-unavailable']"));
    for class in ["jlp-card", "jlp-title", "jlp-message", "jlp-sr"] {
        assert!(js.contains(class), "{class}");
    }
}

#[test]
fn every_control_asks_for_the_action_its_data_action_names() {
    use player_core::machine::Action;
    let all = [
        Action::Retry,
        Action::Play,
        Action::Pause,
        Action::Mute,
        Action::Unmute,
        Action::GoLive,
        Action::Fullscreen,
        Action::PlayRecording(String::new()),
        Action::LeaveReplay,
        Action::RetryRecordings,
        Action::Volume(0),
        Action::Pip,
        Action::Quality(None),
    ];
    let by_variant = |variant: &str| {
        all.iter()
            .find(|a| format!("{a:?}").split('(').next() == Some(variant))
            .unwrap_or_else(|| panic!("no Action::{variant}"))
    };
    let mut named = BTreeSet::new();
    for file in ["overlay", "controls", "recordings"] {
        let src = read(&format!("src/components/{file}.rs"));
        for (i, _) in src.match_indices("data-action=\"") {
            let name = between(&src[i..], "data-action=\"", "\"");
            // The control's handler (`act.on(Action::X)` for a button,
            // `act.on_value(Action::X, parse)` for a slider or a menu)
            // follows its data-action attribute.
            let rest = &src[i..];
            let variant = between(rest, "(Action::", ")");
            let variant = variant
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default();
            assert_eq!(by_variant(variant).name(), name, "{file}: {name}");
            named.insert(name.to_string());
        }
    }
    assert_eq!(
        named,
        set(all.iter().map(Action::name)),
        "every action has a button"
    );
}
