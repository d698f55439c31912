//! The viewer's language on the browser's side: the languages the browser
//! asks for, the one catalogue fetched for them, and the watch page's own
//! words (index.html). Which language wins is `player_core::i18n`'s rule.

use super::fetch::{get_json, InFlight, Json};
use player_core::i18n::{Catalogue, Key, Lang};
use std::future::Future;

/// `navigator.languages`, most preferred first.
pub fn browser_languages() -> Vec<String> {
    web_sys::window()
        .map(|w| {
            w.navigator()
                .languages()
                .iter()
                .filter_map(|v| v.as_string())
                .take(16)
                .collect()
        })
        .unwrap_or_default()
}

/// Fetches `lang`'s catalogue, `<base><tag>.json`. Resolves to `None` when
/// it can't be had (the viewer goes on reading English); dropping the
/// handle aborts the request.
pub fn load(
    base: &str,
    lang: Lang,
) -> (InFlight, impl Future<Output = Option<Catalogue>> + 'static) {
    let (request, outcome) = get_json(format!("{base}{}.json", lang.tag()), 8_000, None);
    let catalogue = async move {
        let json = outcome.await?.ok()?;
        Some(Catalogue::read(lang, &Json(json)))
    };
    (request, catalogue)
}

/// The watch page around the player (index.html) in the viewer's language:
/// its title, header and note, and `lang`/`dir` on the document.
pub fn translate_page(words: &Catalogue) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let lang = words.lang();
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("lang", lang.tag());
        let _ = html.set_attribute("dir", if lang.rtl() { "rtl" } else { "ltr" });
    }
    document.set_title(words.get(Key::PageName));
    for (selector, key) in [
        (".page-name", Key::PageName),
        (".page-title", Key::PageTitle),
        (".page-note", Key::PageNote),
    ] {
        if let Ok(Some(element)) = document.query_selector(selector) {
            element.set_text_content(Some(words.get(key)));
        }
    }
}
