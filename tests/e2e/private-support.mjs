// What spec 80 (private broadcasts) reads from a watch page besides the
// page object's snapshot: every media event of the <video> that tells of a
// break (waiting, playing, emptied), and the delivery requests refused.
//
// Media events do not bubble, but a capturing listener on the document
// sees them on any <video> below it (the watch page's is in the light DOM).
export const MEDIA_LOG = `(() => {
  const log = window.__media = [];
  for (const type of ['waiting', 'playing', 'emptied', 'loadeddata', 'pause', 'play']) {
    document.addEventListener(type, (e) => {
      if (e.target instanceof HTMLVideoElement) log.push({ type, t: performance.now(), ct: e.target.currentTime });
    }, true);
  }
})();`;

// Stalls from the media log: each `waiting` (or `emptied`: a new source)
// to the next `playing`, after the first `playing`. Returns
// { waits: [ms], swaps: [ms] }: waits from `waiting`, swaps from `emptied`.
export function breaks(log) {
  const out = { waits: [], swaps: [] };
  let played = false, from = null, kind = null;
  for (const e of log) {
    if (e.type === 'playing') {
      if (played && from !== null) out[kind].push(Math.round(e.t - from));
      played = true; from = null; kind = null;
    } else if (played && (e.type === 'waiting' || e.type === 'emptied') && from === null) {
      from = e.t; kind = e.type === 'waiting' ? 'waits' : 'swaps';
    } else if (played && e.type === 'emptied' && kind === 'waits') {
      kind = 'swaps';
    }
  }
  return out;
}
