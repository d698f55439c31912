//! Keyboard shortcuts: which key asks for which [`Action`]. The listener sits
//! on the player's root, so they work only while the player has focus (WCAG
//! 2.1.4: no single-key shortcut anywhere else on the host's page). Pure:
//! the browser side hands over the key and where it was pressed.

use crate::machine::{Action, Phase};
use crate::player::View;

/// A `keydown` as far as shortcuts care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key` ("k", "K", " ", "End", ...).
    pub key: &'a str,
    /// Ctrl, Alt or Meta held: the browser's or the system's shortcut.
    pub modifier: bool,
    /// Held down and repeating: a toggle must not flap.
    pub repeat: bool,
    /// Pressed on a button (Space and Enter activate it already) or a text
    /// field (keys are typing).
    pub on_control: bool,
    pub in_text_field: bool,
}

/// The `aria-keyshortcuts` value announcing [`shortcut`]'s keys.
pub const ARIA_KEYSHORTCUTS: &str = "Space K M F L End";

/// The action `press` asks for in `view`, if any. The caller prevents the
/// browser's default (scrolling on Space and End) only when this is `Some`.
pub fn shortcut(press: KeyPress<'_>, view: &View) -> Option<Action> {
    if press.modifier || press.repeat || press.in_text_field {
        return None;
    }
    let plays = matches!(view.phase, Phase::Live | Phase::Replay);
    let key = press.key;
    let is = |name: &str| key.eq_ignore_ascii_case(name);
    if key == " " || key == "Spacebar" {
        // On a button, Space is the button's own activation.
        if press.on_control || !plays {
            return None;
        }
        return Some(toggle_play(view));
    }
    if is("k") {
        return plays.then(|| toggle_play(view));
    }
    if is("m") {
        return plays.then_some(if view.muted {
            Action::Unmute
        } else {
            Action::Mute
        });
    }
    if is("f") {
        return Some(Action::Fullscreen);
    }
    if is("l") || key == "End" {
        return (view.phase == Phase::Live).then_some(Action::GoLive);
    }
    None
}

fn toggle_play(view: &View) -> Action {
    if view.paused {
        Action::Play
    } else {
        Action::Pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(phase: Phase, paused: bool, muted: bool) -> View {
        View {
            phase,
            paused,
            muted,
            ..View::default()
        }
    }

    fn key(key: &str) -> KeyPress<'_> {
        KeyPress {
            key,
            ..KeyPress::default()
        }
    }

    #[test]
    fn case_table() {
        let live = view(Phase::Live, false, false);
        let live_paused_muted = view(Phase::Live, true, true);
        let replay = view(Phase::Replay, false, false);
        let waiting = view(Phase::Waiting, true, false);
        let on_button = |k| KeyPress {
            on_control: true,
            ..key(k)
        };
        let with_ctrl = |k| KeyPress {
            modifier: true,
            ..key(k)
        };
        let held = |k| KeyPress {
            repeat: true,
            ..key(k)
        };
        let typing = |k| KeyPress {
            in_text_field: true,
            ..key(k)
        };
        let cases: &[(KeyPress, &View, Option<Action>)] = &[
            (key(" "), &live, Some(Action::Pause)),
            (key(" "), &live_paused_muted, Some(Action::Play)),
            (key("k"), &live, Some(Action::Pause)),
            (key("K"), &live_paused_muted, Some(Action::Play)),
            (key("m"), &live, Some(Action::Mute)),
            (key("M"), &live_paused_muted, Some(Action::Unmute)),
            (key("f"), &live, Some(Action::Fullscreen)),
            (key("F"), &waiting, Some(Action::Fullscreen)),
            (key("l"), &live, Some(Action::GoLive)),
            (key("End"), &live, Some(Action::GoLive)),
            // A recording has no live edge; nothing plays while waiting.
            (key("l"), &replay, None),
            (key("k"), &replay, Some(Action::Pause)),
            (key("k"), &waiting, None),
            (key(" "), &waiting, None),
            (key("m"), &waiting, None),
            // Space on a focused button is the button's; K is still ours.
            (on_button(" "), &live, None),
            (on_button("k"), &live, Some(Action::Pause)),
            // Ctrl+F is the browser's find, Ctrl+L its address bar.
            (with_ctrl("f"), &live, None),
            (with_ctrl("l"), &live, None),
            (held("k"), &live, None),
            (typing("m"), &live, None),
            (key("Enter"), &live, None),
            (key("x"), &live, None),
            (key("Home"), &live, None),
        ];
        for (press, v, want) in cases {
            assert_eq!(
                shortcut(*press, v),
                *want,
                "{press:?} in {:?} (paused {}, muted {})",
                v.phase,
                v.paused,
                v.muted
            );
        }
    }

    #[test]
    fn every_key_is_announced() {
        let live = view(Phase::Live, false, false);
        for k in ARIA_KEYSHORTCUTS.split(' ') {
            let k = if k == "Space" { " " } else { k };
            assert!(shortcut(key(k), &live).is_some(), "{k}");
        }
    }
}
