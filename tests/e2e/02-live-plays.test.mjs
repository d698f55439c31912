// Start a broadcast while the page waits: it turns live and plays, without a
// page reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic } from './harness.mjs';

const env = useEnv({ name: 'live-plays' });

test('start broadcast → live, currentTime advances, no reload', { timeout: 90_000 }, async () => {
  const { uid } = await env.input('live');
  const p = await env.open({ query: { input: uid }, id: uid });
  const waiting = await p.waitForState('waiting', 15_000);
  await p.setMarker();

  const tStart = Date.now();
  const { videoUID } = await env.control.start(uid, {});
  assert.ok(videoUID, 'start returns a videoUID');

  const live = await p.waitForState('live', 40_000);
  const playing = await p.waitForPlaying({ timeout: 30_000, advance: 1.5 });
  const tPlaying = Date.now();
  assert.ok(await p.markerSurvived(), 'the page was not reloaded');
  assert.ok(live.videoInRoot || playing.videoInRoot, 'the <video> is inside [data-player-state]');
  assert.ok(p.requestsOf('manifest').length >= 1, 'the manifest was loaded');
  assert.ok(p.requestsOf('manifest').every((r) => r.t >= tStart), 'no manifest request before the broadcast started');
  assert.ok(playing.ariaLive !== null, 'aria-live region present');
  assert.notEqual(playing.ariaLive, waiting.ariaLive, `aria-live announced the change (waiting: "${waiting.ariaLive}", live: "${playing.ariaLive}")`);
  // hls.js is loaded lazily and only where it is needed: the player picks
  // the engine (core/src/engine.rs: hls.js where MSE exists except Safari).
  const native = (await p.peek(`document.createElement('video').canPlayType('application/vnd.apple.mpegurl')`)) !== '';
  if (playing.video.engine === 'native') {
    // Native HLS plays it; hls.js is fetched only if the native player
    // showed a frame and then failed (the player's fallback), never up front.
    const early = p.hlsjsRequests().filter((r) => r.t < tStart);
    assert.equal(early.length, 0, 'this browser plays HLS natively: hls.js is not fetched before it is needed');
    assert.equal(p.hlsjsRequests().length, 0, 'hls.js not fetched while native HLS plays');
  } else {
    assert.equal(p.hlsjsRequests().length, 1, 'hls.js fetched once');
  }
  console.log(`engine: ${playing.video.engine} (canPlayType mpegurl ${native ? 'yes' : 'no'})`);
  console.log(`broadcast start → playing: ${((tPlaying - tStart) / 1000).toFixed(1)} s`);
  assertNoPanic(assert, p);
});
