//! `GET /moderator?room=<room>&jwt=<token>`: a plain page on top of the
//! go-live API until the moderator's page proper lands. It takes the token
//! out of the address bar at once, asks `POST /api/rooms/<room>/live`, and
//! shows the one string for Jitsi's "Start live stream", the viewers' link
//! and the embed snippet, then polls `GET` for the status. Everything from
//! the network is set as text.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Go live</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
label{display:block;font-weight:600;margin-top:1rem}
input,textarea{width:100%;box-sizing:border-box;font:14px ui-monospace,monospace;padding:.4rem}
button{font:inherit;padding:.3rem .8rem;margin-top:.3rem}
.err{color:#a00}.muted{color:#555}
</style></head><body>
<h1>Go live: <span id="room"></span></h1>
<p id="msg" class="muted">Asking the backend for this room's live input…</p>
<div id="out" hidden>
<label for="sid">Paste this into Jitsi's "Start live stream" dialog</label>
<input id="sid" readonly><button data-copy="sid">Copy</button>
<label for="watch">Viewers watch here</label>
<input id="watch" readonly><button data-copy="watch">Copy</button> <a id="open" target="_blank" rel="noopener">Open</a>
<label for="embed">Embed on a page</label>
<textarea id="embed" rows="3" readonly></textarea><button data-copy="embed">Copy</button>
<p id="status" class="muted"></p>
</div>
<script src="/moderator.js"></script>
</body></html>
"#;

const JS: &str = r#""use strict";
(() => {
  const q = new URLSearchParams(location.search);
  const room = (q.get("room") || "").toLowerCase();
  const jwt = q.get("jwt") || "";
  // The token stays in memory only: off the address bar and the history.
  q.delete("jwt");
  history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  const $ = (id) => document.getElementById(id);
  $("room").textContent = room || "(no room)";
  const fail = (text) => { $("msg").textContent = text; $("msg").className = "err"; };
  if (!room || !jwt) { fail("Open this page with ?room=<room>&jwt=<your Jitsi token>."); return; }
  const url = "/api/rooms/" + encodeURIComponent(room) + "/live";
  const opts = (method) => ({ method, headers: { authorization: "Bearer " + jwt }, cache: "no-store" });
  const read = async (res) => { try { return await res.json(); } catch { return {}; } };
  for (const b of document.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", () => {
      const el = $(b.dataset.copy);
      el.select();
      (navigator.clipboard ? navigator.clipboard.writeText(el.value) : Promise.reject()).catch(() => document.execCommand("copy"));
    });
  }
  const poll = async () => {
    try {
      const res = await fetch(url, opts("GET"));
      const v = await read(res);
      if (!res.ok) { $("status").textContent = v.error || ("HTTP " + res.status); return; }
      $("status").textContent = v.live
        ? "Live now" + (v.viewers != null ? " · " + v.viewers + " watching" : "")
        : "Not live" + (v.status ? " (" + v.status + ")" : "") + ": start the live stream in Jitsi with the string above.";
    } catch { $("status").textContent = "The backend cannot be reached."; }
  };
  (async () => {
    try {
      const res = await fetch(url, opts("POST"));
      const v = await read(res);
      if (!res.ok) { fail(v.error || ("HTTP " + res.status)); return; }
      $("sid").value = v.streamId;
      $("watch").value = v.watchUrl;
      $("open").href = v.watchUrl;
      $("embed").value = v.embed;
      $("msg").textContent = v.created ? "A live input was created for this room." : "This room's live input.";
      $("out").hidden = false;
      poll();
      setInterval(poll, 5000);
    } catch { fail("The backend cannot be reached."); }
  })();
})();
"#;

/// Served as is; no caching (the page is tiny), no referrer (the token
/// never travels in one), no framing.
const HEADERS: [(header::HeaderName, &str); 4] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
];

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/moderator",
            get(|| async {
                (
                    HEADERS,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    HTML,
                )
                    .into_response()
            }),
        )
        .route(
            "/moderator.js",
            get(|| async {
                (
                    HEADERS,
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    JS,
                )
                    .into_response()
            }),
        )
}
