// Idle input: the page shows `waiting` and never asks for the manifest (an
// idle input's manifest is HTTP 204, which hls.js cannot parse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep } from './harness.mjs';

const env = useEnv({ name: 'idle-waiting' });

test('idle input → waiting, polls lifecycle, zero manifest requests over 12 s', { timeout: 60_000 }, async () => {
  const { uid } = await env.input('idle');
  const p = await env.open({ query: { input: uid }, id: uid });
  const snap = await p.waitForState('waiting', 15_000);
  assert.ok(snap.messageVisible, `a waiting message is shown (got ${JSON.stringify(snap.message)})`);
  assert.ok(snap.ariaLivePresent, 'an aria-live region exists');
  assert.ok(snap.video === null || snap.video.paused, 'nothing plays while waiting');

  const t0 = Date.now();
  const statsBefore = await env.control.inputStats(uid);
  await sleep(12_000);
  const statsAfter = await env.control.inputStats(uid);
  assert.equal(await p.state(), 'waiting', 'still waiting after 12 s');

  const manifest = p.requestsOf('manifest');
  assert.equal(manifest.length, 0, `no manifest request from the page (saw ${manifest.length})`);
  assert.equal(statsAfter.manifest, 0, `origin saw no manifest request for the input (saw ${statsAfter.manifest})`);
  assert.equal(p.requestsOf('playlist').length + p.requestsOf('segment').length, 0, 'no playlist/segment requests');

  // ~5 s ±20% while waiting: 2 or 3 polls in 12 s; allow 2..4.
  const polls = p.requestsOf('lifecycle', t0).length;
  assert.ok(polls >= 2 && polls <= 4, `lifecycle polled ${polls}× in 12 s (want 2..4 at ~5 s ±20%)`);
  assert.equal(statsAfter.lifecycle - statsBefore.lifecycle >= 2, true, 'origin counted the lifecycle polls');
  assertNoPanic(assert, p);
});
