// A viewer who paused a live stream and resumed is behind the live edge:
// the player either brings them back by itself or offers a "go to live"
// control that does. Run on both engines (native HLS and hls.js).
//
// "Behind" is measured without trusting the player's own view of the edge:
// media time advances with the wall clock on a live stream, so
// (wall clock − currentTime) grows by the time spent paused and shrinks back
// when the viewer is returned to live.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep } from './harness.mjs';

const env = useEnv({ name: 'go-live' });
const PAUSE_S = 18;

const VIDEO = `document.querySelector('[data-player-state] video')`;
const offset = async (p) => p.peek(`Date.now() / 1000 - ${VIDEO}.currentTime`);

async function pauseResumeGoLive(engine) {
  const { uid } = await env.input(engine);
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid, ...(engine === 'native' ? { engine } : {}) }, id: uid, name: engine, engine });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  const o1 = await offset(p);

  // Pause (as media keys or the controls would) long enough to fall behind.
  await p.peek(`${VIDEO}.pause()`);
  await sleep(PAUSE_S * 1000);
  await p.peek(`${VIDEO}.play(), 0`);
  await p.waitForPlaying({ timeout: 15_000, advance: 0.5 });
  const behind = (await offset(p)) - o1;

  // Either the player catches up by itself, or it shows the control.
  const how = await p.waitUntil((s) => s.buttons.goLive.visible || ((Date.now() / 1000 - s.video.currentTime) - o1 < 8),
    { timeout: 10_000, what: `go-live button, or back near live by itself (was ${behind.toFixed(1)} s behind)` })
    .then((s) => (s.buttons.goLive.visible ? 'button' : 'itself'));
  if (how === 'button') {
    await p.page.click('button[data-action="go-live"]', { timeout: 5_000 });
    await p.waitUntil((s) => !s.buttons.goLive.visible, { timeout: 8_000, what: 'go-live button hidden after the jump' });
  }
  let after = null;
  for (let i = 0; i < 20; i++) {
    after = (await offset(p)) - o1;
    if (after < 8) break;
    await sleep(500);
  }
  assert.ok(after < 8, `back near live: ${after.toFixed(1)} s behind where playback started (was ${behind.toFixed(1)} s)`);
  await p.waitForPlaying({ timeout: 10_000, advance: 0.5 });
  console.log(`${engine}: ${behind.toFixed(1)} s behind after a ${PAUSE_S} s pause → ${after.toFixed(1)} s (${how === 'button' ? 'via the go-live button' : 'by itself'})`);
  assertNoPanic(assert, p);
}

describe('go to live after a pause', { concurrency: true }, () => {
  it('native HLS (engine=native: this Chromium has it)', { timeout: 120_000 }, () => pauseResumeGoLive('native'));
  it('hls.js', { timeout: 120_000 }, () => pauseResumeGoLive('hlsjs'));
});
