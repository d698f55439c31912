// The next broadcast on the same input (a new videoUID) plays without a
// reload (on Cloudflare a restart is a new video: the player must rebuild).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic } from './harness.mjs';

const env = useEnv({ name: 'restart' });

test('stop, start again (new videoUID) → plays again, no reload', { timeout: 180_000 }, async () => {
  const { uid } = await env.input('restart');
  const first = await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  await p.setMarker();

  const tStop = Date.now();
  await env.control.stop(uid, 'clean');
  await p.waitUntil((s) => ['ended', 'waiting'].includes(s.state), { timeout: 45_000, what: 'ended or waiting after stop' });

  const second = await env.control.start(uid, {});
  assert.ok(second.videoUID, 'second start returns a videoUID');
  assert.notEqual(second.videoUID, first.videoUID, 'a new broadcast gets a new videoUID');
  const tStart2 = Date.now();
  await p.waitUntil((s) => s.state === 'live' && s.log.states.some((x) => x.s === 'live' && x.t >= tStop),
    { timeout: 60_000, what: 'live again after the restart' });
  await p.waitForPlaying({ timeout: 30_000, advance: 1.5 });
  const tPlaying = Date.now();
  assert.ok(await p.markerSurvived(), 'no page reload');
  const lc = await env.control.lifecycle(uid);
  assert.equal(lc.videoUID, second.videoUID, 'lifecycle names the new video');
  console.log(`restart → playing again ${((tPlaying - tStart2) / 1000).toFixed(1)} s`);
  assertNoPanic(assert, p);
});
