// The benchmark's figures (bench/stats.mjs): the ratio of two pages'
// median first frames, its 95 % interval, and what a target can be said
// to be from them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { median, ratioOfMedians, verdict, pathsOf } from '../bench/stats.mjs';

// Deterministic "loads": a spread around a centre, as first frames are.
const loads = (centre, n, spread) => Array.from({ length: n }, (_, i) => centre + spread * Math.sin(i * 2.39996));

test('median of odd and even counts, without reordering its input', () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('the ratio is of the medians and lies in its interval; the same samples give the same interval', () => {
  const page = loads(330, 36, 80), floor = loads(300, 36, 80);
  const r = ratioOfMedians(page, floor);
  assert.equal(r.ratio, median(page) / median(floor));
  assert.ok(r.low < r.ratio && r.ratio < r.high, JSON.stringify(r));
  assert.deepEqual(r.loads, [36, 36]);
  assert.deepEqual(ratioOfMedians(page, floor), r);
});

test('more loads narrow the interval', () => {
  const few = ratioOfMedians(loads(330, 12, 80), loads(300, 12, 80));
  const many = ratioOfMedians(loads(330, 144, 80), loads(300, 144, 80));
  assert.ok(many.high - many.low < few.high - few.low, `${JSON.stringify(few)} ${JSON.stringify(many)}`);
});

test('a target is met or missed only when the whole interval says so', () => {
  assert.equal(verdict(ratioOfMedians(loads(300, 36, 10), loads(300, 36, 10)), 1.1), 'met');
  assert.equal(verdict(ratioOfMedians(loads(450, 36, 10), loads(300, 36, 10)), 1.1), 'missed');
  assert.equal(verdict(ratioOfMedians(loads(330, 12, 120), loads(300, 12, 120)), 1.1), 'undecided: more loads needed');
  assert.equal(verdict(null, 1.1), 'no figures');
  assert.equal(verdict(ratioOfMedians(loads(300, 8, 10), loads(300, 36, 10)), 1.1), 'too few loads (< 9 each)');
  assert.equal(ratioOfMedians([], [1]), null);
});

test('each path of the watch page is set against its own floor', () => {
  const rows = [
    { key: 'a', samples: loads(330, 9, 5) }, { key: 'e', samples: loads(300, 9, 5) },
    { key: 'a2', samples: loads(600, 9, 5) }, { key: 'b', samples: loads(500, 9, 5) },
  ];
  const paths = pathsOf(rows, true);
  assert.deepEqual(paths.map((p) => [p.path, p.page, p.floor]), [['native HLS', 'a', 'e'], ['hls.js', 'a2', 'b']]);
  assert.equal(paths[0].ratio.median, 1.1);
  assert.equal(paths[1].ratio.median, 1.2);
  assert.equal(paths[1].ratio.verdict, 'missed');
  // Without native HLS, (a) is the hls.js path; a path without loads is left out.
  assert.deepEqual(pathsOf([{ key: 'a', samples: [1] }, { key: 'b', samples: [1] }], false).map((p) => p.page), ['a']);
});
