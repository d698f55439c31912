// Media that stops arriving (segments 404, or the encoder dies without
// ending the stream) must not leave a frozen "live" widget: the page ends in
// a clear state with a message, and plays the next broadcast.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitForClearState, waitFor, BROWSER } from './harness.mjs';

const env = useEnv({ name: 'no-dead-widget' });

// Clear states: not `live` with a frozen frame. `starting` is accepted for
// segments 404 (the input is still live: retrying is right).
const CLEAR = ['ended', 'waiting', 'error', 'starting'];


async function scenario(label, breakIt, { allowStarting }) {
  const { uid } = await env.input(label);
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid, name: label });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  await p.setMarker();

  const tBreak = Date.now();
  await breakIt(uid);
  const allowed = allowStarting ? CLEAR : CLEAR.filter((x) => x !== 'starting');
  const s = await waitForClearState(p, allowed, 75_000);
  const tClear = Date.now();
  console.log(`${label}: "${s.state}" telling "${s.title}" / "${s.shownMessage ?? ''}" / "${s.meta ?? ''}" ${((tClear - tBreak) / 1000).toFixed(1)} s after the break`);

  // Next broadcast → plays again without a reload.
  await env.control.clearFaults(uid);
  await env.control.stop(uid, 'clean').catch(() => {});
  const tNew = Date.now();
  await env.control.start(uid, {});
  await p.waitUntil((x) => x.state === 'live' && x.log.states.some((e) => e.s === 'live' && e.t >= tClear),
    { timeout: 75_000, what: 'live again with the next broadcast' });
  await p.waitForPlaying({ timeout: 30_000 });
  assert.ok(await p.markerSurvived(), `${label}: no page reload`);
  console.log(`${label}: next broadcast playing ${((Date.now() - tNew) / 1000).toFixed(1)} s after start`);
  assertNoPanic(assert, p);
}

describe('no dead widget', { concurrency: true }, () => {
  it('segments 404 while live', { timeout: 200_000 }, () =>
    scenario('segments404', (uid) => env.control.setFaults(uid, { segments404: true }), { allowStarting: true }));
  it('abrupt encoder stop', { timeout: 200_000 }, () =>
    scenario('abrupt', (uid) => env.control.stop(uid, 'abrupt'), { allowStarting: false }));
});

// The player's own files (its glue and wasm) fail to download at first, as
// on a flaky connection: the page says so in the player's place, tries
// again by itself (index.html's __jlpFetchPlayer) and the player starts
// without a reload. Chromium only: failing a request takes Playwright's
// routes, which the Firefox adapter (puppeteer over BiDi) does not offer.
it('the player\'s files fail to download at first', { timeout: 120_000, skip: BROWSER === 'firefox' && 'needs Playwright routes' }, async () => {
  const { uid } = await env.input('files');
  let glueFails = 1, wasmFails = 2;
  const routes = [
    [(url) => /\/player-[0-9a-f]+\.js$/.test(url.pathname), (route) => (glueFails-- > 0 ? route.abort('connectionreset') : route.continue())],
    [(url) => /\/player-[0-9a-f]+_bg\.wasm$/.test(url.pathname), (route) => (wasmFails-- > 0 ? route.abort('connectionreset') : route.continue())],
  ];
  const p = await env.open({ query: { input: uid }, id: uid, name: 'files', routes });
  const note = () => p.peek(`(() => { const n = document.querySelector('#player > .page-retry'); return n && { text: n.textContent, role: n.getAttribute('role') }; })()`);
  const said = await waitFor(note, { timeout: 10_000, what: 'a note in the player\'s place' });
  assert.equal(said.role, 'status');
  assert.match(said.text, /could not be loaded\. It will try again by itself\./);
  await p.waitForState('waiting', 30_000);
  assert.equal(await note(), null, 'the note is gone once the player is there');
  const asked = (re) => p.allRequests.filter((r) => re.test(new URL(r.url).pathname)).map((r) => new URL(r.url).search);
  assert.deepEqual(asked(/\/player-[0-9a-f]+\.js$/), ['', '?try=1'], 'the glue again, under another query');
  assert.equal(asked(/_bg\.wasm$/).length, 3, 'the wasm until it came');
  assert.equal(glueFails, -1);
  assert.equal(wasmFails, -1);
  assertNoPanic(assert, p);
});
