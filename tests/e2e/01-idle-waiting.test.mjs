// Idle input: the page shows `waiting` and never asks for the manifest (an
// idle input's manifest is HTTP 204, which hls.js cannot parse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep, SAYS } from './harness.mjs';

const env = useEnv({ name: 'idle-waiting' });

test('idle input → waiting, polls lifecycle, zero manifest requests over 15 s', { timeout: 60_000 }, async () => {
  const { uid } = await env.input('idle');
  const p = await env.open({ query: { input: uid }, id: uid });
  const snap = await p.waitForState('waiting', 15_000);
  assert.equal(snap.title, SAYS.headline.waiting, 'the viewer is told the stream has not started');
  assert.match(snap.meta || '', SAYS.waitingFor, 'and how long the page has waited');
  assert.equal(snap.ariaLive, SAYS.headline.waiting, 'the live region says the same');
  assert.equal(snap.shownMessage, null, 'no error sentence while simply waiting');
  assert.ok(snap.video === null || snap.video.paused, 'nothing plays while waiting');

  const statsBefore = await env.control.inputStats(uid);
  await sleep(15_000);
  const statsAfter = await env.control.inputStats(uid);
  assert.equal(await p.state(), 'waiting', 'still waiting after 15 s');

  const manifest = p.requestsOf('manifest');
  assert.equal(manifest.length, 0, `no manifest request from the page (saw ${manifest.length})`);
  assert.equal(statsAfter.manifest, 0, `origin saw no manifest request for the input (saw ${statsAfter.manifest})`);
  assert.equal(p.requestsOf('playlist').length + p.requestsOf('segment').length, 0, 'no playlist/segment requests');

  // About every 5 s (±20% jitter) while waiting: every gap between polls in
  // 4..8 s (the player's policy says 6 s ±20%).
  const polls = p.requestsOf('lifecycle');
  const gaps = polls.slice(1).map((r, i) => (r.t - polls[i].t) / 1000);
  assert.ok(polls.length >= 3, `lifecycle polled ${polls.length}× (want ≥ 3 in 15 s)`);
  assert.ok(gaps.every((g) => g >= 4 && g <= 8), `gaps between lifecycle polls in 4..8 s (got ${gaps.map((g) => g.toFixed(1)).join(', ')} s)`);
  console.log(`lifecycle poll gaps while waiting: ${gaps.map((g) => g.toFixed(1)).join(', ')} s`);
  assert.equal(statsAfter.lifecycle - statsBefore.lifecycle >= 2, true, 'origin counted the lifecycle polls');
  assertNoPanic(assert, p);
});
