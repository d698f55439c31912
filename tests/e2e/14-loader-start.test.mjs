// The watch page opened on a broadcast that is already live, on native HLS:
// the page's loader (index.html) asks lifecycle and sets the <video>'s
// source before the wasm arrives, and the player takes both over (no second
// lifecycle request, no second manifest load, the same element). On hls.js
// the loader starts hls.js itself, with the <video> in the page, and the
// player takes over that instance the same way. Served by our backend, the
// page carries lifecycle's answer (backend/src/watch_page.rs): the loader
// asks nothing before the manifest, and the player starts from that answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor } from './harness.mjs';

const env = useEnv({ name: 'loader-start', backend: true });

async function openLive(engine) {
  const { uid } = await env.input(engine);
  await env.control.startBroadcast(uid);
  const query = { input: uid, ...(engine === 'native' ? { engine } : {}) };
  const p = await env.open({ query, id: uid, name: engine, engine });
  await p.waitForState('live', 30_000);
  const playing = await p.waitForPlaying({ timeout: 30_000, advance: 1.0 });
  return { p, playing };
}

// One at a time: what is asserted is which side (the loader or the player)
// got somewhere first, against the loader's 1.5 s deadline. Run together,
// four broadcasts' encoders and four pages on CI's 2 cores made the player
// win now and then (one clean-clone run: three of the four failed so).
describe('the loader starts, the player takes over', { concurrency: false }, () => {
  it('native HLS: one lifecycle request, one manifest load, the loader\'s <video>', { timeout: 120_000 }, async () => {
    const { p, playing } = await openLive('native');
    assert.equal(playing.video.engine, 'native');
    const first = p.requestsOf('manifest')[0];
    const lifecycle = p.requestsOf('lifecycle').filter((r) => r.t <= first.t);
    assert.equal(lifecycle.length, 1, 'the player used the loader\'s lifecycle answer');
    assert.equal(p.requestsOf('manifest').length, 1, 'the player carried on with the loader\'s load');
    const took = await p.peek(`(() => { const s = window.__jlpStart; const v = document.querySelector('[data-player-state] video');
      return { closed: s.closed, left: s.video === undefined, cls: v.className, part: v.getAttribute('part'), inline: v.hasAttribute('playsinline'), controls: v.controls,
        early: document.querySelectorAll('#player > video').length }; })()`);
    // Chromium has moveBefore: the loader showed the <video> at once and the
    // player moved it into its stage without a reload (one manifest load,
    // still native: a plain move fails Chromium's HLS, and the player would
    // have fallen back to hls.js).
    assert.deepEqual(took, { closed: true, left: true, cls: 'jlp-video', part: 'video', inline: true, controls: false, early: 0 },
      'the loader\'s element, with the view\'s attributes, in the player');
    assertNoPanic(assert, p);
  });

  it('served by our backend: the page carries lifecycle\'s answer; no lifecycle request before the manifest, on both engines; a waiting page goes live by itself', { timeout: 180_000 }, async () => {
    const live = (uid) => waitFor(async () => (await (await fetch(`${env.server.url}/${uid}/lifecycle`)).json()).live, { timeout: 20_000, what: 'lifecycle live' });
    for (const engine of ['native', 'hlsjs']) {
      const { uid } = await env.input(`carried-${engine}`);
      await env.control.startBroadcast(uid);
      await live(uid);
      const query = { input: uid, base: env.server.url, ...(engine === 'native' ? { engine } : {}) };
      const p = await env.open({ base: env.backend.url, query, id: uid, name: `carried-${engine}`, engine });
      await p.waitForState('live', 30_000);
      const playing = await p.waitForPlaying({ timeout: 30_000, advance: 1.0 });
      assert.equal(playing.video.engine, engine === 'native' ? 'native' : 'mse');
      const first = p.requestsOf('manifest')[0];
      assert.equal(p.requestsOf('lifecycle').filter((r) => r.t <= first.t).length, 0, `${engine}: the page's own answer, nothing asked`);
      assert.equal(p.requestsOf('manifest').length, 1, `${engine}: the player carried on with the loader's load`);
      const took = await p.peek(`(() => ({ closed: window.__jlpStart.closed, carried: !!document.getElementById('jlp-lifecycle'), early: document.querySelectorAll('#player > video').length }))()`);
      assert.deepEqual(took, { closed: true, carried: true, early: 0 }, engine);
      // No warning about the wasm's preload in a host developer's console
      // (it carried an `integrity` Chromium ignores and warned about on
      // every load, scripts/minify-wasm.mjs), and the wasm fetched once.
      // Only that warning: on a loaded machine Chromium may also say a
      // preload was not used within seconds of the load event.
      const integrity = p.console.filter((c) => /integrity/i.test(c.text)).map((c) => c.text);
      assert.deepEqual(integrity, [], `${engine}: no console warning about integrity`);
      assert.equal(p.allRequests.filter((r) => /_bg\.wasm$/.test(new URL(r.url).pathname)).length, 1, `${engine}: the wasm fetched once`);
      assertNoPanic(assert, p);
    }
    // Idle when the page was served: the player starts from the carried
    // "not live", then its own polls see the broadcast start.
    const { uid } = await env.input('carried-idle');
    const p = await env.open({ base: env.backend.url, query: { input: uid, base: env.server.url, engine: 'native' }, id: uid, name: 'carried-idle', engine: 'native' });
    await p.waitForState('waiting', 15_000);
    assert.equal(p.requestsOf('manifest').length, 0, 'no manifest while waiting');
    await env.control.startBroadcast(uid);
    await p.waitForState('live', 60_000);
    await p.waitForPlaying({ timeout: 30_000, advance: 1.0 });
    assertNoPanic(assert, p);
  });

  it('an element that played, then rebuffered, before the player took it: live at its next `playing`', { timeout: 120_000 }, async () => {
    // The loader mounts the player once the first frame is on screen; a
    // live stream often rebuffers right after it (`waiting`, readyState
    // HAVE_METADATA). Forced here: the element says HAVE_METADATA while the
    // player takes it, so `loadeddata` is in the past and no frame is
    // current; the next `playing` must count as the first frame, or the
    // page says "starting" over a playing video.
    const { uid } = await env.input('rebuffer');
    await env.control.startBroadcast(uid);
    const hold = `(() => {
      let b;
      Object.defineProperty(window, 'wasmBindings', { configurable: true, get: () => b, set: (real) => {
        b = { ...real, start_watch_page: () => {
          const v = window.__jlpStart && window.__jlpStart.video;
          if (v) { Object.defineProperty(v, 'readyState', { configurable: true, get: () => 1 }); window.__e2eHeld = v; }
          real.start_watch_page();
        } };
      } });
      // Until the test lets go, the element's own 'playing' events do not
      // reach the player (a capture listener on window runs first).
      addEventListener('playing', (e) => { if (e.target === window.__e2eHeld && e.isTrusted) e.stopImmediatePropagation(); }, true);
    })()`;
    const p = await env.open({ query: { input: uid, engine: 'native' }, id: uid, name: 'rebuffer', engine: 'native', initScripts: [hold] });
    await p.waitForState('starting', 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const held = await p.peek(`(() => { const v = window.__e2eHeld; if (!v) return null;
      const s = document.querySelector('[data-player-state]').dataset.playerState;
      delete v.readyState; window.__e2eHeld = null; v.dispatchEvent(new Event('playing')); return s; })()`);
    assert.equal(held, 'starting', 'the player took the held element and waits for a frame');
    await p.waitForState('live', 10_000);
    assertNoPanic(assert, p);
  });

  it('hls.js: one lifecycle request, one manifest load, the loader\'s hls.js instance and <video>', { timeout: 120_000 }, async () => {
    const { p, playing } = await openLive('hlsjs');
    assert.equal(playing.video.engine, 'mse');
    const first = p.requestsOf('manifest')[0];
    assert.equal(p.requestsOf('lifecycle').filter((r) => r.t <= first.t).length, 1, 'the player used the loader\'s lifecycle answer');
    assert.equal(p.requestsOf('manifest').length, 1, 'the player carried on with the loader\'s hls.js instance');
    const took = await p.peek(`(() => { const s = window.__jlpStart; const v = document.querySelector('[data-player-state] video');
      return { closed: s.closed, left: s.video === undefined && s.hls === undefined, cls: v.className, part: v.getAttribute('part'),
        same: window.__e2eHls.hls.media === v, made: window.__e2eHls.made, byPlayer: window.__e2eHls.byPlayer, sampler: typeof v[Symbol.for('jitsi-live-player.hls-sample')],
        early: document.querySelectorAll('#player > video').length }; })()`);
    assert.deepEqual(took, { closed: true, left: true, cls: 'jlp-video', part: 'video', same: true, made: 1, byPlayer: false, sampler: 'function', early: 0 },
      'the loader\'s element and instance, with the view\'s attributes, in the player; the moderator preview\'s sampler on it');
    assertNoPanic(assert, p);
  });
});
