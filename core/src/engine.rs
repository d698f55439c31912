//! Which engine plays HLS: the browser's own player or hls.js on Media
//! Source Extensions. Pure: the browser side probes [`Caps`] once and the
//! player asks [`native`].
//!
//! Chosen from the figures in docs/notes/start.md: on Chromium the native
//! player keeps every second it downloaded (renderer 164 → 1,345 MB over a
//! 60-minute live at 2 Mbit/s) where hls.js with its 30 s back buffer stays
//! at ~400 MB, and hls.js reports the levels, bitrate and latency the
//! moderator page and the viewing figures read. Apple's player is the
//! reference HLS player, bounds its own buffer and works where MSE is
//! missing (iPhone before iOS 17.1), so WebKit keeps it.
//!
//! The watch page's loader (index.html) makes the same choice before the
//! wasm arrives; both are checked against `core/tests/start-cases.json`.

use crate::config::Engine;

/// The browser's engine family, from `navigator.vendor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Safari, and every browser on iOS/iPadOS (all WebKit).
    Apple,
    /// Chrome, Edge, Opera, Samsung Internet, Android WebView.
    Chromium,
    /// Firefox, whose `navigator.vendor` is empty.
    Gecko,
    Other,
}

impl Family {
    /// `navigator.vendor` is fixed by each engine ("Apple Computer, Inc.",
    /// "Google Inc.", "" for Gecko), unlike the user agent string, which
    /// every browser dresses up as the others.
    pub fn from_vendor(vendor: &str) -> Family {
        if vendor.starts_with("Apple") {
            Family::Apple
        } else if vendor.starts_with("Google") {
            Family::Chromium
        } else if vendor.is_empty() {
            Family::Gecko
        } else {
            Family::Other
        }
    }
}

/// What the browser can do, probed once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// The `<video>` plays HLS itself (Safari; Chromium answers "maybe").
    pub native_hls: bool,
    /// Media Source Extensions (or ManagedMediaSource) exist: hls.js can run.
    pub mse: bool,
    pub family: Family,
    /// The browser offers picture-in-picture for this `<video>`.
    pub pip: bool,
}

/// Whether `engine` plays natively on a browser with `caps`.
///
/// | engine | native HLS | MSE | family | plays on |
/// | --- | --- | --- | --- | --- |
/// | native | any | any | any | the browser |
/// | hlsjs | any | any | any | hls.js |
/// | auto | yes | any | Apple | the browser |
/// | auto | yes | no | any | the browser |
/// | auto | any | yes | not Apple | hls.js |
/// | auto | no | no | any | the browser (nothing else could; it says so) |
pub fn native(engine: Engine, caps: Caps) -> bool {
    match engine {
        Engine::Native => true,
        Engine::Hlsjs => false,
        Engine::Auto => !caps.mse || (caps.native_hls && caps.family == Family::Apple),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_vendor() {
        for (vendor, family) in [
            ("Apple Computer, Inc.", Family::Apple),
            ("Google Inc.", Family::Chromium),
            ("", Family::Gecko),
            ("Opera Software ASA", Family::Other),
        ] {
            assert_eq!(Family::from_vendor(vendor), family, "{vendor}");
        }
    }

    #[test]
    fn engine_case_table() {
        use Family::*;
        // (engine, native HLS, MSE, family, native?)
        let table = [
            (Engine::Auto, true, true, Apple, true), // macOS Safari, iPadOS
            (Engine::Auto, true, false, Apple, true), // iPhone before iOS 17.1
            (Engine::Auto, true, true, Chromium, false), // Chrome ≥ 141: memory
            (Engine::Auto, false, true, Chromium, false), // older Chrome
            (Engine::Auto, false, true, Gecko, false), // Firefox
            (Engine::Auto, true, true, Gecko, false), // Firefox for Android
            (Engine::Auto, true, false, Other, true), // a TV browser
            (Engine::Auto, false, false, Other, true), // nothing plays HLS
            (Engine::Native, false, true, Chromium, true),
            (Engine::Hlsjs, true, true, Apple, false),
        ];
        for (engine, native_hls, mse, family, want) in table {
            let caps = Caps {
                native_hls,
                mse,
                family,
                pip: false,
            };
            assert_eq!(native(engine, caps), want, "{engine:?} {caps:?}");
        }
    }
}
