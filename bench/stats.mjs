// The figures the benchmark reports: a median per page and, for each path
// of the watch page against its floor, the ratio of the two medians with a
// 95 % interval. First frames on a loopback stream with a live encoder on
// the same 2 cores scatter widely (one page's per-run medians 0.87-1.70x
// of its floor's), so a ratio read without its interval is a guess: the
// interval says when more loads are needed before a target is called met
// or missed.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Mulberry32: a seeded generator, so that the same samples always print
// the same interval.
function generator(seed) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const resample = (xs, next) => xs.map(() => xs[Math.floor(next() * xs.length)]);

// median(page) / median(floor) and its percentile-bootstrap 95 % interval:
// both sets resampled independently (the loads are interleaved, but a
// page's load and its floor's in the same rotation are not a pair: they
// run at different moments of the encoder's work).
export function ratioOfMedians(page, floor, { draws = 4000, seed = 1 } = {}) {
  if (!page.length || !floor.length) return null;
  const next = generator(seed);
  const ratios = [];
  for (let i = 0; i < draws; i++) ratios.push(median(resample(page, next)) / median(resample(floor, next)));
  ratios.sort((a, b) => a - b);
  const at = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  return { ratio: median(page) / median(floor), low: at(0.025), high: at(0.975), loads: [page.length, floor.length] };
}

// What a target can be said to be, given the interval. Below 9 loads a
// side, a bootstrap has too few distinct medians to draw from to be
// believed (2 loads each printed a 0.85-0.96x "interval").
export const MIN_LOADS = 9;
export function verdict(r, target) {
  if (!r) return 'no figures';
  if (Math.min(...r.loads) < MIN_LOADS) return `too few loads (< ${MIN_LOADS} each)`;
  if (r.high <= target) return 'met';
  if (r.low > target) return 'missed';
  return 'undecided: more loads needed';
}

// The team's target for each path: first frame within 10 % of its floor.
export const TARGET = 1.1;

// Each path of the watch page against its own floor (same engine), from
// the first-frame rows of one run or of several pooled (`key`, `samples`).
// Where the browser has no native HLS, (a) is itself the hls.js path.
export function pathsOf(rows, nativeHls) {
  const samples = (k) => (rows.find((x) => x.key === k)?.samples ?? []).filter((x) => typeof x === 'number');
  const paths = [
    ...(nativeHls ? [{ path: 'native HLS', page: 'a', floor: 'e' }] : []),
    { path: 'hls.js', page: nativeHls ? 'a2' : 'a', floor: 'b' },
    { path: 'A/B: the other build', page: 'av', floor: 'a' },
  ];
  const out = [];
  for (const p of paths) {
    const page = samples(p.page), floor = samples(p.floor);
    if (p.page === 'av' ? !page.length : !page.length && !floor.length) continue;
    const r = ratioOfMedians(page, floor);
    out.push({
      ...p,
      ratio: r && {
        median: +r.ratio.toFixed(2), low: +r.low.toFixed(2), high: +r.high.toFixed(2), loads: r.loads,
        medianDeltaMs: Math.round(median(page) - median(floor)),
        min: +(Math.min(...page) / Math.min(...floor)).toFixed(2),
        verdict: p.page === 'av' ? null : verdict(r, TARGET),
      },
    });
  }
  return out;
}

// Markdown lines for `paths`.
export function pathTable(paths) {
  const L = [`| path | watch page | floor | median ratio | 95 % interval | target ≤ ${TARGET}× | Δ median | ratio of minimums | loads |`,
    '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |'];
  for (const p of paths) {
    const q = p.ratio;
    L.push(q
      ? `| ${p.path} | (${p.page}) | (${p.floor}) | **${q.median}×** | ${q.low}–${q.high}× | ${q.verdict ?? '—'} | ${q.medianDeltaMs >= 0 ? '+' : ''}${q.medianDeltaMs} ms | ${q.min}× | ${q.loads.join(' / ')} |`
      : `| ${p.path} | (${p.page}) | (${p.floor}) | — | — | — | — | — | — |`);
  }
  return L;
}
