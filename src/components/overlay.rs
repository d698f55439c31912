//! What covers the picture: the still of the last broadcast, the card that
//! says what is going on (headline, notice, countdown, "Try again"), and the
//! live badge with the viewer count.

use super::player::Act;
use leptos::prelude::*;
use player_core::machine::{Action, Phase};
use player_core::player::View;
use player_core::text::{self, headline};

#[component]
pub fn Overlay(v: RwSignal<View>, now: RwSignal<u64>, act: Act) -> impl IntoView {
    let (thumb_failed, set_thumb_failed) = signal(None::<String>);
    let thumbnail = move || v.with(|v| v.thumbnail.clone());
    let viewers = move || v.with(|v| v.viewers);
    let meta = move || {
        let now = now.get();
        let (phase, retry_at, since) = v.with(|v| (v.phase, v.retry_at_ms, v.since_ms));
        match (phase, retry_at) {
            (Phase::Error | Phase::Starting, Some(at)) if at > now => {
                Some(text::retry_in((at - now).div_ceil(1000)))
            }
            (Phase::Waiting, _) => Some(text::waiting_for(now.saturating_sub(since) / 1000)),
            (Phase::Ended, _) => Some(text::NEXT_BROADCAST.to_string()),
            _ => None,
        }
    };
    view! {
        <div class="jlp-overlay" part="overlay">
            <img
                class="jlp-poster"
                alt=""
                src=thumbnail
                hidden=move || {
                    let t = thumbnail();
                    t.is_none() || t == thumb_failed.get()
                }
                on:error=move |_| set_thumb_failed.set(v.with_untracked(|v| v.thumbnail.clone()))
            />
            <div class="jlp-card" part="card">
                <span class="jlp-spinner" aria-hidden="true"></span>
                <p class="jlp-title" part="title">{move || headline(v.with(|v| v.phase))}</p>
                <p class="jlp-message" part="message" data-message="">
                    {move || v.with(|v| v.notice).map(text::notice).unwrap_or_default()}
                </p>
                <p class="jlp-meta">{meta}</p>
                <button class="jlp-button" part="button retry" data-action="retry" on:click=act.on(Action::Retry)>"Try again"</button>
            </div>
        </div>
        <div class="jlp-top">
            <span class="jlp-badge" part="live-badge">"Live"</span>
            <span class="jlp-viewers" part="viewers" data-viewers="" hidden=move || viewers().is_none()>
                {move || viewers().map(text::viewers)}
            </span>
        </div>
    }
}
