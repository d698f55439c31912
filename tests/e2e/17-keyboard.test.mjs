// The player by keyboard alone: shortcuts while it has focus (Space/K
// play-pause, M mute, F full screen, L or End go to live) and none outside
// it (WCAG 2.1.4); a sensible tab order with a visible focus ring that the
// overlay never hides, and no trap; each state change announced once in the
// live region; a resume after a long pause goes back to live by itself.
//
// Keys are pressed with Playwright's keyboard (real key events with user
// activation, as a viewer's); reads go through the page object.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep, SAYS } from './harness.mjs';

const env = useEnv({ name: 'keyboard' });

const VIDEO = `document.querySelector('[data-player-state] video')`;
// Seconds behind where playback started: media time runs with the wall clock
// on a live stream, so (wall clock − currentTime) grows while paused.
const offset = (p) => p.peek(`Date.now() / 1000 - ${VIDEO}.currentTime`);

// What has focus: its description, whether it is inside the player, shows a
// focus ring, and is not covered by anything (the overlay) at its centre.
const FOCUS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { what: 'body', inPlayer: false };
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {
    what: el.dataset.action ? 'button:' + el.dataset.action : (el.classList.contains('jlp-stage') ? 'stage' : el.tagName.toLowerCase()),
    inPlayer: !!el.closest('.jlp'),
    visible: el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }),
    ring: el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
    uncovered: !!top && (el === top || el.contains(top)),
    w: r.width, h: r.height,
  };
})()`;

async function livePage(label) {
  const { uid } = await env.input(label);
  await env.control.startBroadcast(uid);
  // On hls.js: this Chromium's native HLS may give up on the stream under
  // load and hand over to hls.js mid-test (spec 16), a moment in which the
  // player is "starting" and play/mute keys rightly do nothing.
  const p = await env.open({ query: { input: uid }, id: uid, name: label, engine: 'hlsjs' });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  return p;
}

const press = (p, key) => p.page.keyboard.press(key);
// Paused as the video says and as the player's view has it (its class): a
// key pressed before the view caught up would toggle from the old state.
const PAUSED = `document.querySelector('.jlp').classList.contains('jlp-is-paused')`;
const paused = (p, want, what) => p.waitUntil(async (x) => x.video.paused === want && (await p.peek(PAUSED)) === want, { timeout: 5_000, what });

describe('keyboard', { concurrency: true }, () => {
  it('shortcuts while the player has focus, none outside it; tab order, focus ring, no trap', { timeout: 150_000 }, async () => {
    const p = await livePage('keys');

    // Outside the player (focus on the page), single keys do nothing.
    await p.page.evaluate(() => document.activeElement && document.activeElement.blur());
    for (const k of ['k', ' ', 'm', 'f', 'l']) await press(p, k);
    await sleep(500);
    let s = await p.snapshot();
    assert.equal(s.video.paused, false, 'K/Space outside the player: still playing');
    assert.equal(s.video.muted, false, 'M outside the player: not muted');
    assert.equal(await p.peek('!!document.fullscreenElement'), false, 'F outside the player: no full screen');

    // The first Tab reaches the player's stage; then every visible control
    // in order, each with a visible ring, none hidden behind the overlay;
    // then focus leaves the player (no trap).
    const order = [];
    for (let i = 0; i < 12; i++) {
      await press(p, 'Tab');
      await sleep(300); // the control bar fades in (0.2 s) when focus enters it
      const f = await p.peek(FOCUS);
      if (!f.inPlayer) { order.push(f.what); break; }
      order.push(f.what);
      assert.ok(f.visible, `${f.what}: focused and visible`);
      assert.ok(f.ring, `${f.what}: a visible focus ring`);
      assert.ok(f.uncovered, `${f.what}: not hidden behind anything`);
      assert.ok(f.w >= 24 && f.h >= 24, `${f.what}: target at least 24×24 px (${f.w}×${f.h})`);
    }
    console.log(`tab order while live: ${order.join(' → ')}`);
    assert.equal(order[0], 'stage', 'the first stop is the player');
    // Picture-in-picture only where the browser offers it; the quality
    // menu only with several renditions on hls.js (one here).
    const pip = await p.peek('document.pictureInPictureEnabled === true');
    const want = ['button:pause', 'button:mute', 'button:volume', ...(pip ? ['button:pip'] : []), 'button:fullscreen'];
    assert.deepEqual(order.slice(1, -1), want, 'then its controls, in reading order');
    assert.equal(p.page.isClosed(), false);
    assert.ok(order.at(-1) === 'body' || !order.at(-1).startsWith('button'), `Tab leaves the player: no trap (${order.join(' → ')})`);
    // Shift+Tab walks back into it.
    await press(p, 'Shift+Tab');
    assert.equal((await p.peek(FOCUS)).what, 'button:fullscreen', 'Shift+Tab comes back to the last control');

    // Shortcuts on the focused stage. (Space outside the player scrolled
    // the page, as it should: back to the top first.)
    await p.page.evaluate(() => window.scrollTo(0, 0));
    await p.page.focus('.jlp-stage');
    const scrollY = await p.peek('window.scrollY');
    await press(p, 'k');
    await paused(p, true, 'K pauses');
    await press(p, 'k');
    await paused(p, false, 'K plays');
    await press(p, ' ');
    await paused(p, true, 'Space pauses');
    await press(p, ' ');
    await paused(p, false, 'Space plays');
    assert.equal(await p.peek('window.scrollY'), scrollY, 'Space in the player did not scroll the page');
    await press(p, 'm');
    await p.waitUntil((x) => x.video.muted, { timeout: 5_000, what: 'M mutes' });
    await press(p, 'M');
    await p.waitUntil((x) => !x.video.muted, { timeout: 5_000, what: 'Shift+M unmutes' });
    await press(p, 'f');
    await p.waitUntil(() => p.peek('!!document.fullscreenElement && document.fullscreenElement.classList.contains("jlp")'), { timeout: 5_000, what: 'F: full screen' });
    await press(p, 'f');
    await p.waitUntil(() => p.peek('!document.fullscreenElement'), { timeout: 5_000, what: 'F again: out of full screen' });
    // Ctrl+M is the browser's, never the player's.
    await press(p, 'Control+m');
    await sleep(300);
    assert.equal((await p.snapshot()).video.muted, false, 'Ctrl+M is not a shortcut');

    // Space on a focused button is that button's (pressed once, not twice).
    await press(p, 'Tab');
    assert.equal((await p.peek(FOCUS)).what, 'button:pause');
    await press(p, ' ');
    s = await p.waitUntil((x) => x.video.paused, { timeout: 5_000, what: 'Space on the pause button pauses' });
    await sleep(500);
    assert.equal((await p.snapshot()).video.paused, true, 'and stays paused (not toggled twice)');
    assertNoPanic(assert, p);
  });

  // On hls.js: Chromium's native HLS resumes a paused live stream at the
  // edge by itself, so only hls.js leaves the viewer behind.
  it('L and End go to live; catch-up rate while behind; a resume after a long pause goes to live by itself (hls.js)', { timeout: 150_000 }, async () => {
    const { uid } = await env.input('golive');
    await env.control.startBroadcast(uid);
    const p = await env.open({ query: { input: uid }, id: uid, name: 'golive', engine: 'hlsjs' });
    await p.waitForState('live', 30_000);
    await p.waitForPlaying({ timeout: 30_000 });
    await sleep(4_000); // settle at hls.js's start point (6 s behind)
    const o1 = await offset(p);
    await p.page.focus('.jlp-stage');

    let sawRate = 0;
    for (const key of ['End', 'l']) {
      await press(p, 'k');
      await paused(p, true, 'K pauses');
      // Past the 10 s "go to live" mark, short of hls.js's 14 s pull-back.
      await sleep(7_000);
      await press(p, 'k');
      await p.waitForPlaying({ timeout: 15_000, advance: 0.3 });
      const behind = (await offset(p)) - o1;
      assert.ok(behind > 4, `a short pause resumes where it was (${behind.toFixed(1)} s further behind)`);
      // README: caught up by playing up to 1.5×.
      const rate = await p.peek(`${VIDEO}.playbackRate`);
      sawRate = Math.max(sawRate, rate);
      assert.ok(rate > 1 && rate <= 1.5, `catching up while behind: playbackRate ${rate}`);
      await p.waitUntil((x) => x.buttons.goLive.visible, { timeout: 5_000, what: '"Go to live" offered' });
      await press(p, key);
      await p.waitUntil((x) => !x.buttons.goLive.visible, { timeout: 10_000, what: `${key}: back at live` });
      await p.waitForPlaying({ timeout: 15_000, advance: 0.3 });
      const after = (await offset(p)) - o1;
      assert.ok(after < 2.5, `${key} went to live: ${behind.toFixed(1)} → ${after.toFixed(1)} s further behind`);
      console.log(`${key}: ${behind.toFixed(1)} s further behind (playbackRate ${rate}) → ${after.toFixed(1)} s`);
      await p.waitUntil(() => p.peek(`${VIDEO}.playbackRate === 1`), { timeout: 15_000, what: 'playbackRate back to 1 at live' });
      await p.page.focus('.jlp-stage');
    }

    // README: "Resuming after a long pause jumps to live" (over 20 s), with
    // no "go to live" press: the first frames after play are at live.
    await press(p, 'k');
    await paused(p, true, 'K pauses');
    await sleep(23_000);
    await press(p, 'k');
    await p.waitForPlaying({ timeout: 15_000, advance: 0.3 });
    const after = (await offset(p)) - o1;
    assert.ok(after < 2.5, `after a 23 s pause, play resumed at live by itself (${after.toFixed(1)} s further behind)`);
    console.log(`resume after a 23 s pause: ${after.toFixed(1)} s further behind; highest catch-up rate seen ${sawRate}`);
    assertNoPanic(assert, p);
  });

  it('each state change announced once: waiting → live → ended', { timeout: 150_000 }, async () => {
    const { uid } = await env.input('announce');
    const p = await env.open({ query: { input: uid }, id: uid, name: 'announce' });
    await p.waitForState('waiting', 15_000);
    await env.control.startBroadcast(uid);
    await p.waitForState('live', 45_000);
    await env.control.stop(uid, 'clean');
    await p.waitForState('ended', 45_000);
    await sleep(1_000);
    const log = await p.peek('window.__e2e');
    const said = log.liveWrites.map((w) => w.a);
    const region = await p.peek(`document.querySelector('[aria-live]').outerHTML`);
    assert.match(region, /role="status"/, 'a status region');
    assert.match(region, /aria-live="polite"/, 'polite: it does not interrupt');
    // One announcement per state change, in the order the states came (a
    // broadcast may pass through "starting" for a moment on its way to live).
    const states = log.states.map((x) => x.s).filter((s) => s && s !== 'loading');
    assert.deepEqual(said, states.map((s) => SAYS.headline[s]),
      `what a screen reader hears: one line per state change (states ${states.join(' → ')}; heard ${JSON.stringify(said)})`);
    for (const s of ['waiting', 'live', 'ended']) assert.ok(said.includes(SAYS.headline[s]), `"${SAYS.headline[s]}" announced`);
    console.log(`live region over waiting → live → ended: ${said.join(' | ')}`);
    assertNoPanic(assert, p);
  });
});
