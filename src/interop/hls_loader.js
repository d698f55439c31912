// Loads hls.js once per page, on demand, and hands its class to Rust.
// Players on the same page share the one script.
let pending = null;
export function load_hls(src) {
  if (window.Hls) return Promise.resolve(window.Hls);
  if (!pending) {
    pending = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not define Hls")));
      s.onerror = () => {
        pending = null; // a later attempt may succeed
        s.remove();
        reject(new Error("hls.js could not be loaded"));
      };
      document.head.appendChild(s);
    });
  }
  return pending;
}
export function new_hls(Hls, config) {
  return new Hls(config);
}
export function hls_supported(Hls) {
  return Hls.isSupported();
}
