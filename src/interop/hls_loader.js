// Shipped to every viewer as is (no minifier): the why is in hls.rs.
let pending = null;
export function load_hls(src) {
  if (window.Hls) return Promise.resolve(window.Hls);
  // The watch page's loader (index.html) started it already; if that
  // failed, the next call tries again on its own.
  const early = window.__jlpHls;
  if (!pending && early) {
    window.__jlpHls = null;
    pending = early.then(
      () => window.Hls || Promise.reject(new Error("hls.js did not define Hls")),
      () => {
        pending = null;
        throw new Error("hls.js could not be loaded");
      },
    );
  }
  if (!pending) {
    pending = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not define Hls")));
      s.onerror = () => {
        pending = null;
        s.remove();
        reject(new Error("hls.js could not be loaded"));
      };
      document.head.appendChild(s);
    });
  }
  return pending;
}
export function new_hls(Hls, config, signed) {
  if (signed) {
    // Every request under the delivery base carries the current token.
    config.loader = class extends Hls.DefaultConfig.loader {
      load(context, c, callbacks) {
        const p = signed.prefix, u = context.url, i = u.indexOf("/", p.length);
        if (u.startsWith(p) && i > 0) context.url = p + signed.token + u.slice(i);
        super.load(context, c, callbacks);
      }
    };
  }
  return watch_hls(new Hls(config));
}
// The moderator preview's sampler (hls.rs), on this instance's <video>;
// also for the instance the page's loader started (index.html).
export function watch_hls(hls) {
  const KEY = Symbol.for("jitsi-live-player.hls-sample");
  let loads, media;
  const sample = () => {
    if (!loads) {
      loads = [];
      hls.on("hlsFragLoaded", (_, d) => {
        const s = d.frag.type == "main" && d.frag.stats;
        if (s && s.loaded > 0) loads.push(s.loaded, s.loading.start, s.loading.end) > 12 && loads.splice(0, 3);
      });
    }
    const l = (hls.levels || [])[hls.currentLevel], d = hls.playingDate;
    return { bitrate: l ? l.bitrate : null, playingDate: d ? +d : null, loads: loads.slice() };
  };
  const attach = (m) => (media = m)[KEY] = sample;
  hls.on("hlsMediaAttaching", (_, d) => attach(d.media));
  hls.on("hlsMediaDetaching", () => {
    if (media && media[KEY] === sample) delete media[KEY];
    media = null;
  });
  if (hls.media) attach(hls.media);
  return hls;
}
export function hls_supported(Hls) {
  return Hls.isSupported();
}
