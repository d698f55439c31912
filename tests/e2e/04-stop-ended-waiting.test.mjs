// A broadcast that stops cleanly: the page leaves playback, says the stream
// ended, then waits again for the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep, SAYS } from './harness.mjs';

const env = useEnv({ name: 'stop-ended' });

test('stop (clean) → ended, then waiting', { timeout: 150_000 }, async () => {
  const { uid } = await env.input('stop');
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  await p.setMarker();

  const tStop = Date.now();
  await env.control.stop(uid, 'clean');
  const ended = await p.waitForState('ended', 45_000);
  const tEnded = Date.now();
  assert.equal(ended.title, SAYS.headline.ended, 'the viewer is told the stream ended');
  assert.equal(ended.meta, SAYS.nextBroadcast, 'and where the next one will play');
  assert.ok(!ended.video || ended.video.paused || ended.video.readyState < 2 || !ended.video.src,
    'playback was left (video paused or detached)');

  await p.waitForSequence(['live', 'ended', 'waiting'], 90_000, tStop - 60_000);
  const tWaiting = Date.now();
  const s = await p.snapshot();
  assert.equal(s.state, 'waiting');
  assert.ok(await p.markerSurvived(), 'no page reload');
  // Once waiting again, the old manifest is no longer requested.
  await sleep(6_000);
  const tail = p.requestsOf('manifest', tWaiting + 500).length + p.requestsOf('playlist', tWaiting + 500).length;
  assert.equal(tail, 0, 'no manifest/playlist requests after returning to waiting');
  console.log(`stop → ended ${((tEnded - tStop) / 1000).toFixed(1)} s, → waiting ${((tWaiting - tStop) / 1000).toFixed(1)} s`);
  assertNoPanic(assert, p);
});
