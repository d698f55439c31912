// The same behaviours through the hls.js path. Debian's Chromium 156 claims
// native HLS (canPlayType "maybe"), so every other spec exercises the native
// path; here canPlayType is hidden, as in browsers without native HLS
// (Firefox, older Chromium), and the player must load hls.js and play through MSE.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitForClearState } from './harness.mjs';

const env = useEnv({ name: 'hlsjs-engine' });
const open = (uid, name) => env.open({ query: { input: uid }, id: uid, name, engine: 'hlsjs' });

async function playingThroughHlsjs(p, what) {
  await p.waitForState('live', 45_000);
  const s = await p.waitForPlaying({ timeout: 30_000, advance: 1.5 });
  assert.equal(s.video.engine, 'mse', `${what}: plays through MSE (hls.js), not natively`);
  assert.ok(s.hlsjsLoaded, `${what}: hls.js is loaded`);
  return s;
}

// The config the player gave hls.js, handed from the first test to the config test.
let configSeen;
const configReady = new Promise((resolve) => { configSeen = resolve; });

describe('hls.js path: start, stop, restart, manifest 404', { concurrency: true }, () => {
  it('settings for hours-long meetings reach hls.js', { timeout: 120_000 }, async () => {
    const { merged: c } = await configReady;
    assert.ok(Number.isFinite(c.backBufferLength) && c.backBufferLength <= 120, `bounded back buffer (backBufferLength ${c.backBufferLength})`);
    assert.ok(c.liveSyncDuration > 0 || c.liveSyncDurationCount > 0, 'starts near the live edge');
    assert.ok(Number.isFinite(c.liveMaxLatencyDuration) || Number.isFinite(c.liveMaxLatencyDurationCount), 'a viewer who falls far behind is pulled back');
    // Regression: maxLiveSyncPlaybackRate > 1 with lowLatencyMode false is a
    // dead setting (hls.js 1.7 LatencyController.onTimeupdate returns early
    // unless lowLatencyMode), so the promised catch-up never happens.
    if (c.maxLiveSyncPlaybackRate > 1) {
      assert.equal(c.lowLatencyMode, true, `maxLiveSyncPlaybackRate ${c.maxLiveSyncPlaybackRate} only works with lowLatencyMode: true in hls.js 1.7`);
    }
  });

  it('live → plays; stop → ended; restart → plays again, no reload', { timeout: 150_000 }, async () => {
    const { uid } = await env.input('cycle');
    const p = await open(uid, 'cycle');
    await p.waitForState('waiting', 15_000);
    // The player fetches hls.js alongside the first lifecycle poll (so it is
    // ready when the broadcast starts): at most once, and not before the page rendered.
    assert.ok(p.hlsjsRequests().length <= 1, 'hls.js fetched at most once while waiting');
    await p.setMarker();
    await env.control.start(uid, {});
    await playingThroughHlsjs(p, 'first broadcast');
    assert.equal(p.hlsjsRequests().length, 1, 'hls.js fetched once, when needed');

    configSeen(await p.hlsConfig());

    const tStop = Date.now();
    await env.control.stop(uid, 'clean');
    await p.waitForState('ended', 45_000);
    await env.control.start(uid, {});
    await p.waitUntil((x) => x.state === 'live' && x.log.states.some((e) => e.s === 'live' && e.t > tStop),
      { timeout: 60_000, what: 'live again' });
    await playingThroughHlsjs(p, 'second broadcast');
    assert.ok(await p.markerSurvived(), 'no page reload');
    assert.equal(p.hlsjsRequests().length, 1, 'hls.js not fetched again');
    assertNoPanic(assert, p);
  });

  it('manifest 404 for 20 s → starting, then plays', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('m404');
    const p = await open(uid, 'm404');
    await p.waitForState('waiting', 15_000);
    await env.control.setFaults(uid, { manifest404Seconds: 20 });
    const t0 = Date.now();
    await env.control.start(uid, {});
    await p.waitForState('starting', 30_000);
    await playingThroughHlsjs(p, 'after the 404s');
    const n404 = p.requestsOf('manifest').filter((r) => r.status === 404).length;
    assert.ok(n404 >= 2 && n404 <= 20, `manifest retried with backoff (${n404} × 404)`);
    console.log(`hls.js: start → playing with 20 s of manifest 404: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${n404} × 404`);
    assertNoPanic(assert, p);
  });
});

describe('hls.js path: no dead widget', { concurrency: true }, () => {
  for (const [label, breakIt] of [
    ['segments404', (uid) => env.control.setFaults(uid, { segments404: true })],
    ['abrupt', (uid) => env.control.stop(uid, 'abrupt')],
  ]) {
    it(`${label} → a clear state, then the next broadcast plays`, { timeout: 200_000 }, async () => {
      const { uid } = await env.input(label);
      await env.control.startBroadcast(uid);
      const p = await open(uid, label);
      await playingThroughHlsjs(p, 'before the break');
      await p.setMarker();
      const tBreak = Date.now();
      await breakIt(uid);
      const allowed = label === 'abrupt' ? ['ended', 'waiting', 'error'] : ['ended', 'waiting', 'error', 'starting'];
      const s = await waitForClearState(p, allowed, 90_000);
      const tClear = Date.now();
      console.log(`hls.js ${label}: "${s.state}" telling "${s.title}" / "${s.shownMessage ?? ''}" / "${s.meta ?? ''}" ${((tClear - tBreak) / 1000).toFixed(1)} s after the break`);
      await env.control.clearFaults(uid);
      await env.control.stop(uid, 'clean').catch(() => {});
      await env.control.start(uid, {});
      await p.waitUntil((x) => x.state === 'live' && x.log.states.some((e) => e.s === 'live' && e.t >= tClear),
        { timeout: 75_000, what: 'live again with the next broadcast' });
      await playingThroughHlsjs(p, 'next broadcast');
      assert.ok(await p.markerSurvived(), 'no page reload');
      assertNoPanic(assert, p);
    });
  }
});
