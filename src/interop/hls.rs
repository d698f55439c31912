//! hls.js bindings: loaded lazily (`hls_loader.js` adds one script per
//! page, shared by every player on it; a failed load may be tried again),
//! one owning handle per instance.
//!
//! The moderator page's preview (the watch page in a same-origin frame)
//! needs what only hls.js knows: the playing rendition's declared bitrate,
//! the last fragments' download sizes and times, the wall-clock time of the
//! frame shown (`playingDate`, from `EXT-X-PROGRAM-DATE-TIME`). The loader
//! (`hls_loader.js`, JS so that the viewers' wasm does not grow) puts a
//! function on the attached `<video>` under `Symbol.for("jitsi-live-player.hls-sample")`
//! that answers `{bitrate, playingDate (ms since the epoch), loads: [bytes,
//! startMs, endMs, ...]}` (the last 4 main-fragment loads, oldest first;
//! `null` where unknown). It does nothing until first called (then it
//! starts recording fragment loads), so a viewer's playback does no extra
//! work; detaching the media (the handle's `Drop`) removes it. The preview
//! checks every number in `player_core::health`.
//!
//! A private broadcast's tokens expire: given `signed` (`{prefix, token}`,
//! kept current by the slot), the loader puts the current token in place of
//! the uid or older token in every request URL under `prefix` (as
//! `player_core::signed::swap_token`), so a refresh reaches the next
//! playlist and segment requests without a restart.

use player_core::hls_config::{classify, HlsError};
use player_core::player::Level;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlMediaElement;

#[wasm_bindgen(module = "/src/interop/hls_loader.js")]
extern "C" {
    fn load_hls(src: &str) -> js_sys::Promise;
    #[wasm_bindgen(catch)]
    fn new_hls(class: &JsValue, config: &JsValue, signed: &JsValue) -> Result<Hls, JsValue>;
    #[wasm_bindgen(catch)]
    fn hls_supported(class: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch)]
    fn watch_hls(hls: &Hls) -> Result<Hls, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    pub type Hls;
    #[wasm_bindgen(method, catch, js_name = loadSource)]
    fn load_source(this: &Hls, url: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = attachMedia)]
    fn attach_media(this: &Hls, media: &HtmlMediaElement) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = detachMedia)]
    fn detach_media(this: &Hls) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn destroy(this: &Hls) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = recoverMediaError)]
    fn recover_media_error(this: &Hls) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn on(this: &Hls, event: &str, listener: &js_sys::Function);
    #[wasm_bindgen(method)]
    fn off(this: &Hls, event: &str, listener: &js_sys::Function);
    #[wasm_bindgen(method, getter)]
    fn latency(this: &Hls) -> f64;
    #[wasm_bindgen(method, setter, js_name = currentLevel)]
    fn set_current_level(this: &Hls, level: i32);
    #[wasm_bindgen(method, getter, js_name = liveSyncPosition)]
    fn live_sync_position(this: &Hls) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn levels(this: &Hls) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = currentLevel)]
    fn current_level(this: &Hls) -> f64;
}

/// Loads hls.js from `src` (once per page) and resolves to its class.
pub async fn load(src: &str) -> Result<JsValue, JsValue> {
    let class = wasm_bindgen_futures::JsFuture::from(load_hls(src)).await?;
    if hls_supported(&class).unwrap_or(false) {
        Ok(class)
    } else {
        Err(JsValue::from_str("Media Source Extensions are missing"))
    }
}

type Handler = Closure<dyn FnMut(JsValue, JsValue)>;

/// One hls.js instance attached to a `<video>`. Dropping it unsubscribes,
/// detaches and destroys it.
pub struct HlsInstance {
    hls: Hls,
    handlers: Vec<(&'static str, Handler)>,
}

fn field(data: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

impl HlsInstance {
    pub fn new(
        class: &JsValue,
        config: &player_core::hls_config::HlsConfig,
        media: &HtmlMediaElement,
        url: &str,
        signed: Option<&JsValue>,
        on_error: impl FnMut(HlsError) + 'static,
    ) -> Result<Self, JsValue> {
        let config = js_sys::JSON::parse(&config.to_json())?;
        let hls = new_hls(class, &config, signed.unwrap_or(&JsValue::UNDEFINED))?;
        let mut instance = HlsInstance {
            hls,
            handlers: Vec::new(),
        };
        instance.on_error(on_error);
        instance.hls.attach_media(media)?;
        instance.hls.load_source(url)?;
        Ok(instance)
    }

    /// Takes over an instance the page's loader started (index.html):
    /// attached and loading already, with the live config. Dropping it
    /// destroys it, as any other.
    pub fn adopt(hls: JsValue) -> Self {
        let hls: Hls = hls.unchecked_into();
        let _ = watch_hls(&hls);
        HlsInstance {
            hls,
            handlers: Vec::new(),
        }
    }

    pub fn on_error(&mut self, mut on_error: impl FnMut(HlsError) + 'static) {
        let error: Handler = Closure::new(move |_event: JsValue, data: JsValue| {
            let kind = field(&data, "type").as_string().unwrap_or_default();
            let details = field(&data, "details").as_string().unwrap_or_default();
            let fatal = field(&data, "fatal").as_bool().unwrap_or(false);
            on_error(classify(&kind, &details, fatal));
        });
        self.hls.on("hlsError", error.as_ref().unchecked_ref());
        self.handlers.push(("hlsError", error));
    }

    pub fn recover_media_error(&self) {
        let _ = self.hls.recover_media_error();
    }

    /// Reports the stream's renditions once hls.js has read them, and each
    /// switch between them (at once for what an adopted instance did
    /// before). At most 32 renditions are read.
    pub fn watch_levels(
        &mut self,
        on_levels: impl Fn(Vec<Level>) + 'static,
        on_switched: impl Fn(usize) + 'static,
    ) {
        let known = read_levels(&self.hls.levels());
        if !known.is_empty() {
            on_levels(known);
        }
        let level = |n: f64| (n.is_finite() && n >= 0.0).then_some(n as usize);
        if let Some(l) = level(self.hls.current_level()) {
            on_switched(l);
        }
        let parsed: Handler = Closure::new(move |_event: JsValue, data: JsValue| {
            on_levels(read_levels(&field(&data, "levels")));
        });
        let switched: Handler = Closure::new(move |_event: JsValue, data: JsValue| {
            if let Some(l) = field(&data, "level").as_f64().and_then(level) {
                on_switched(l);
            }
        });
        for (event, handler) in [
            ("hlsManifestParsed", parsed),
            ("hlsLevelSwitched", switched),
        ] {
            self.hls.on(event, handler.as_ref().unchecked_ref());
            self.handlers.push((event, handler));
        }
    }

    /// `currentLevel`: this rendition, or -1 (Auto) for `None`.
    pub fn set_level(&self, level: Option<usize>) {
        self.hls
            .set_current_level(level.map_or(-1, |l| l.min(i32::MAX as usize) as i32));
    }

    /// Seconds behind the live edge, when known.
    pub fn latency(&self) -> Option<f64> {
        Some(self.hls.latency()).filter(|l| l.is_finite() && *l > 0.0)
    }

    pub fn live_sync_position(&self) -> Option<f64> {
        self.hls.live_sync_position().filter(|p| p.is_finite())
    }
}

/// hls.js's `levels` (an array, or anything else: none), at most 32.
fn read_levels(levels: &JsValue) -> Vec<Level> {
    if !js_sys::Array::is_array(levels) {
        return Vec::new();
    }
    let number = |v: &JsValue, name: &str| {
        field(v, name)
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(0, |n| n.min(u32::MAX as f64) as u32)
    };
    js_sys::Array::from(levels)
        .iter()
        .take(32)
        .map(|l| Level {
            height: number(&l, "height"),
            bitrate: number(&l, "bitrate"),
        })
        .collect()
}

impl Drop for HlsInstance {
    fn drop(&mut self) {
        for (event, handler) in &self.handlers {
            self.hls.off(event, handler.as_ref().unchecked_ref());
        }
        let _ = self.hls.detach_media();
        let _ = self.hls.destroy();
    }
}
