//! The recordings of this input, newest first: a keyed list (a refresh
//! keeps the items already shown), with notes while one is on its way or
//! when the list can't be loaded.

use super::player::Act;
use crate::interop::local_date;
use leptos::prelude::*;
use player_core::format::clock;
use player_core::machine::Action;
use player_core::player::View;
use player_core::recordings::Recording;

#[component]
pub fn Recordings(v: RwSignal<View>, act: Act) -> impl IntoView {
    let list = Memo::new(move |_| v.with(|v| v.recordings.clone()));
    view! {
        <section
            class="jlp-recordings"
            part="recordings"
            aria-label="Recordings"
            hidden=move || v.with(|v| v.recordings.is_empty() && !v.processing && !v.recordings_failed)
        >
            <h2 class="jlp-recordings-title">"Recordings"</h2>
            <p class="jlp-note" hidden=move || !v.with(|v| v.processing)>
                "The recording will be available shortly."
            </p>
            <p class="jlp-note" hidden=move || !v.with(|v| v.recordings_failed)>
                "Recordings can't be loaded right now. "
                <button class="jlp-link" data-action="recordings-retry" on:click=act.on(Action::RetryRecordings)>"Try again"</button>
            </p>
            <ul class="jlp-recording-list">
                {move || list.get().into_iter().map(|r| view! { <Item r=r v=v act=act/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Item(r: Recording, v: RwSignal<View>, act: Act) -> impl IntoView {
    let uid = r.uid.clone();
    let current = move || v.with(|v| v.replaying.as_deref() == Some(uid.as_str()));
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
                <span class="jlp-recording-thumb">
                    <img src=r.thumbnail alt="" loading="lazy"/>
                    <span class="jlp-recording-duration">
                        {clock(r.duration_seconds.max(0.0) as u64)}
                    </span>
                </span>
                <span class="jlp-recording-name">{r.name}</span>
                <span class="jlp-recording-date">{local_date(&r.created)}</span>
            </button>
        </li>
    }
}
