//! The moderator page (`/moderator/?room=<room>&jwt=<token>`): the go-live
//! string, the input's status, the preview's health figures and the room's
//! recordings. A wasm of its own, so the viewers' download does not grow.

mod api;
mod browser;
mod json;
mod net;
mod page;
mod preview;
mod qoe;

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    page::start();
}
