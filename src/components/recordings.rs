//! The recordings of this input, newest first: a keyed list (a refresh
//! keeps the items already shown), with notes while one is on its way or
//! when the list can't be loaded.

use super::player::{Act, Tr};
use crate::interop::intl;
use leptos::prelude::*;
use player_core::format::clock;
use player_core::i18n::Key;
use player_core::machine::Action;
use player_core::player::View;
use player_core::recordings::Recording;

#[component]
pub fn Recordings(v: RwSignal<View>, act: Act, tr: Tr) -> impl IntoView {
    let list = Memo::new(move |_| v.with(|v| v.recordings.clone()));
    view! {
        <section
            class="jlp-recordings"
            part="recordings"
            aria-label=tr.text(Key::Recordings)
            hidden=move || v.with(|v| v.recordings.is_empty() && !v.processing && !v.recordings_failed)
        >
            <h2 class="jlp-recordings-title" part="recordings-title">{tr.text(Key::Recordings)}</h2>
            <p class="jlp-note" part="note" hidden=move || !v.with(|v| v.processing)>
                {tr.text(Key::RecordingSoon)}
            </p>
            <p class="jlp-note" part="note" hidden=move || !v.with(|v| v.recordings_failed)>
                {tr.text(Key::RecordingsFailed)} " "
                <button class="jlp-link" part="button recordings-retry" data-action="recordings-retry" on:click=act.on(Action::RetryRecordings)>{tr.text(Key::TryAgain)}</button>
            </p>
            <ul class="jlp-recording-list">
                {move || list.get().into_iter().map(|r| view! { <Item r=r v=v act=act tr=tr/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Item(r: Recording, v: RwSignal<View>, act: Act, tr: Tr) -> impl IntoView {
    let uid = r.uid.clone();
    let current = move || v.with(|v| v.replaying.as_deref() == Some(uid.as_str()));
    let created = r.created;
    view! {
        <li>
            <button
                class="jlp-recording"
                part="recording"
                data-action="play-recording"
                data-uid=r.uid.clone()
                aria-current=move || current().then_some("true")
                on:click=act.on(Action::PlayRecording(r.uid))
            >
                <span class="jlp-recording-thumb" part="recording-thumb">
                    <img src=r.thumbnail alt="" loading="lazy"/>
                    <span class="jlp-recording-duration" part="recording-duration">
                        {clock(r.duration_seconds.max(0.0) as u64)}
                    </span>
                </span>
                <span class="jlp-recording-name" part="recording-name">{r.name}</span>
                <span class="jlp-recording-date" part="recording-date">{tr.derive(move || intl::date(tr.tag(), &created))}</span>
            </button>
        </li>
    }
}
