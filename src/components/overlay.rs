//! What covers the picture: the still of the last broadcast, the card that
//! says what is going on (headline, notice, countdown, "Try again"), and the
//! live badge with the viewer count.

use super::player::{Act, Tr};
use crate::interop::intl;
use leptos::prelude::*;
use player_core::format::clock;
use player_core::i18n::Key;
use player_core::machine::{Action, Phase};
use player_core::player::View;
use player_core::text::{self, headline};

#[component]
pub fn Overlay(v: RwSignal<View>, now: RwSignal<u64>, act: Act, tr: Tr) -> impl IntoView {
    let (thumb_failed, set_thumb_failed) = signal(None::<String>);
    let thumbnail = move || v.with(|v| v.thumbnail.clone());
    let viewers = move || v.with(|v| v.viewers);
    let meta = tr.derive(move || {
        let now = now.get();
        let (phase, retry_at, since) = v.with(|v| (v.phase, v.retry_at_ms, v.since_ms));
        match (phase, retry_at) {
            (Phase::Error | Phase::Starting, Some(at)) if at > now => {
                let secs = intl::number(tr.tag(), (at - now).div_ceil(1000));
                tr.fill(Key::RetryIn, &[("seconds", &secs)])
            }
            (Phase::Waiting, _) => {
                let time = clock(now.saturating_sub(since) / 1000);
                tr.fill(Key::WaitingFor, &[("time", &time)])
            }
            (Phase::Ended, _) => tr.t(Key::NextBroadcast),
            _ => String::new(),
        }
    });
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
                <p class="jlp-title" part="title">{tr.derive(move || tr.t(headline(v.with(|v| v.phase))))}</p>
                <p class="jlp-message" part="message" data-message="">
                    {tr.derive(move || v.with(|v| v.notice).map(|n| tr.t(text::notice(n))).unwrap_or_default())}
                </p>
                <p class="jlp-meta" part="meta">{meta}</p>
                <button class="jlp-button" part="button retry" data-action="retry" on:click=act.on(Action::Retry)>{tr.text(Key::TryAgain)}</button>
            </div>
        </div>
        <div class="jlp-top">
            <span class="jlp-badge" part="live-badge">{tr.text(Key::LiveBadge)}</span>
            <span class="jlp-viewers" part="viewers" data-viewers="" hidden=move || viewers().is_none()>
                {tr.derive(move || viewers().map(|n| tr.fill(Key::Viewers, &[("count", &intl::compact(tr.tag(), n))])).unwrap_or_default())}
            </span>
        </div>
    }
}
