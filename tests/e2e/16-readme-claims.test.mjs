// What the README promises and no other spec checked: "Try again" and its
// countdown, the still of the last broadcast while waiting, the switch from
// the browser's own HLS to hls.js when native playback gives up, and a fatal
// media error on hls.js recovered (recoverMediaError at most once per 5 s,
// else a rebuild). (Resume after a long pause and the catch-up rate: spec 14;
// moving the element within a page: spec 21.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep, SAYS } from './harness.mjs';

const env = useEnv({ name: 'claims' });

const VIDEO = `document.querySelector('[data-player-state] video')`;
const countdown = (s) => Number((/(\d+)/.exec(s.meta || '') || [])[1]);

describe('README claims', { concurrency: true }, () => {
  it('"Try again": a countdown that counts down, and the button retries at once', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('retry');
    await env.control.setFaults(uid, { lifecycle: 'error500' });
    const p = await env.open({ query: { input: uid }, id: uid, name: 'retry' });
    // Backoff grows (2 s → 60 s): wait for a countdown long enough to beat.
    const s1 = await p.waitUntil((x) => x.state === 'error' && SAYS.retryIn.test(x.meta || '') && countdown(x) >= 5,
      { timeout: 60_000, what: 'an error with a countdown of 5 s or more' });
    assert.equal(s1.shownMessage, SAYS.notice.unreachable, 'the error says what is wrong');
    assert.equal(s1.errorCode, 'network');
    assert.ok(s1.buttons.retry.visible, '"Try again" is shown');
    await sleep(2_100);
    const s2 = await p.snapshot();
    assert.ok(countdown(s2) < countdown(s1) && countdown(s2) >= countdown(s1) - 3,
      `the countdown counts down (${s1.meta} → ${s2.meta})`);

    // Fault gone; the viewer does not wait for the countdown.
    await env.control.clearFaults(uid);
    const left = countdown(s2);
    const tClick = Date.now();
    await p.page.click('button[data-action="retry"]');
    const s3 = await p.waitForState('waiting', 5_000);
    const asked = p.requestsOf('lifecycle', tClick);
    assert.ok(asked.length >= 1 && asked[0].t - tClick < 1_500, `"Try again" asked at once (${asked.length ? asked[0].t - tClick : '-'} ms after the click)`);
    assert.ok(Date.now() - tClick < left * 1000, `back to waiting (${Date.now() - tClick} ms) before the ${left} s countdown ran out`);
    assert.equal(s3.shownMessage, null, 'the error is gone');
    assertNoPanic(assert, p);
  });

  it('the still of the last broadcast behind the ended and waiting screens', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('poster');
    const p = await env.open({ query: { input: uid }, id: uid, name: 'poster' });
    await p.waitForState('waiting', 15_000);
    const POSTER = `(() => { const i = document.querySelector('.jlp-poster');
      return i ? { shown: i.checkVisibility(), src: i.currentSrc || i.src, loaded: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt') } : null; })()`;
    const before = await p.peek(POSTER);
    assert.equal(before.shown, false, 'no still before any broadcast');
    const { videoUID } = await env.control.startBroadcast(uid);
    await p.waitForState('live', 45_000);
    await p.waitForPlaying({ timeout: 30_000 });
    assert.equal((await p.peek(POSTER)).shown, false, 'no still over the live picture');
    await env.control.stop(uid, 'clean');
    for (const state of ['ended', 'waiting']) {
      await p.waitForState(state, 45_000);
      const still = await waitForPoster(p, POSTER);
      assert.match(still.src, new RegExp(`/${videoUID}/thumbnails/`), `${state}: the last broadcast's still`);
      assert.equal(still.alt, '', `${state}: decorative (alt="")`);
      console.log(`${state}: still ${still.src.replace(env.server.url, '')}`);
    }
    assertNoPanic(assert, p);
  });

  it('native HLS gives up after its first frame → hls.js takes over for the session', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('switch');
    await env.control.startBroadcast(uid);
    // `auto` is hls.js on Chromium (core/src/engine.rs): ask for the
    // browser's HLS, as Safari's `auto` gets it.
    const p = await env.open({ query: { input: uid, engine: 'native' }, id: uid, name: 'switch' });
    await p.waitForState('live', 30_000);
    const s0 = await p.waitForPlaying({ timeout: 30_000 });
    assert.equal(s0.video.engine, 'native', 'this Chromium plays natively first');
    assert.equal(p.hlsjsRequests().length, 0, 'hls.js not fetched while native plays');
    // What Chromium does on a stream it cannot parse after the first frame
    // (MEDIA_ERR_SRC_NOT_SUPPORTED, DEMUXER_ERROR_COULD_NOT_PARSE), forced:
    // the element reports the error, as the browser would.
    const tForce = Date.now();
    await p.peek(`(() => { const v = ${VIDEO};
      Object.defineProperty(v, 'error', { configurable: true, get: () => ({ code: 4, message: 'DEMUXER_ERROR_COULD_NOT_PARSE (forced by the test)' }) });
      v.dispatchEvent(new Event('error'));
      delete v.error; })()`);
    const s1 = await p.waitUntil((x) => x.state === 'live' && x.video && x.video.engine === 'mse',
      { timeout: 30_000, what: 'live again on hls.js (MSE)' });
    await p.waitForPlaying({ timeout: 30_000 });
    assert.equal(p.hlsjsRequests().length, 1, 'hls.js fetched once, for the switch');
    assert.ok(s1.hlsjsLoaded);
    console.log(`native → hls.js: playing again ${((Date.now() - tForce) / 1000).toFixed(1)} s after the forced error`);
    // For the rest of the session: the next broadcast plays on hls.js too.
    await env.control.stop(uid, 'clean');
    await p.waitForState('ended', 45_000);
    const tEnd = Date.now();
    await env.control.start(uid, {});
    await p.waitUntil((x) => x.state === 'live' && x.log.states.some((e) => e.s === 'live' && e.t > tEnd), { timeout: 60_000, what: 'the next broadcast live' });
    const s2 = await p.waitForPlaying({ timeout: 30_000 });
    assert.equal(s2.video.engine, 'mse', 'the next broadcast stays on hls.js');
    assertNoPanic(assert, p);
  });

  it('a fatal media error on hls.js: recoverMediaError once, a second within 5 s rebuilds; playing throughout', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('mediaerr');
    await env.control.startBroadcast(uid);
    const p = await env.open({ query: { input: uid }, id: uid, name: 'mediaerr', engine: 'hlsjs' });
    await p.waitForState('live', 30_000);
    await p.waitForPlaying({ timeout: 30_000 });
    // Count recoverMediaError calls on this instance (the call still happens).
    await p.peek(`(() => { const h = window.__e2eHls.hls; window.__e2eFirstHls = h; window.__e2eRecovers = 0;
      const orig = h.recoverMediaError.bind(h); h.recoverMediaError = () => { window.__e2eRecovers += 1; orig(); }; })()`);
    // A fatal media error as hls.js reports one (a buffer append the
    // MediaSource refused), through hls.js's own event bus.
    const inject = `(() => { const h = window.__e2eHls.hls;
      h.trigger(window.Hls.Events.ERROR, { type: window.Hls.ErrorTypes.MEDIA_ERROR, details: window.Hls.ErrorDetails.BUFFER_APPEND_ERROR, fatal: true, error: new Error('injected by the test') }); })()`;
    const manifests = p.requestsOf('manifest').length;
    await p.peek(inject);
    await p.waitUntil(() => p.peek('window.__e2eRecovers === 1'), { timeout: 5_000, what: 'recoverMediaError called' });
    await p.waitForPlaying({ timeout: 20_000 });
    let s = await p.snapshot();
    assert.equal(s.state, 'live', 'still live after the recovery');
    assert.equal(await p.peek('window.__e2eHls.hls === window.__e2eFirstHls'), true, 'recovered in place: the same hls.js instance');
    assert.equal(p.requestsOf('manifest').length, manifests, 'no rebuild (no new manifest request)');

    // A second one within 5 s: not recoverMediaError again, a rebuild.
    await p.peek(inject);
    await p.waitUntil(() => p.peek('window.__e2eHls.hls !== window.__e2eFirstHls'), { timeout: 15_000, what: 'a new hls.js instance (rebuild)' });
    await p.waitForState('live', 30_000);
    s = await p.waitForPlaying({ timeout: 30_000 });
    assert.equal(await p.peek('window.__e2eRecovers'), 1, 'recoverMediaError at most once per 5 s');
    assert.equal(s.video.engine, 'mse');
    assertNoPanic(assert, p);
  });
});

async function waitForPoster(p, expr) {
  for (let i = 0; i < 50; i++) {
    const s = await p.peek(expr);
    if (s && s.shown && s.loaded) return s;
    await sleep(200);
  }
  const s = await p.peek(expr);
  assert.fail(`a still shown and loaded (${JSON.stringify(s)})`);
}
