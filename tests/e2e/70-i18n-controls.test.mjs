// The viewer's language and the controls people expect.
// Language: the `lang` option (here the address) wins, else the browser's
// languages (Playwright's locale sets navigator.languages), else English;
// only the chosen catalogue is downloaded; Arabic mirrors the player.
// Controls: the volume slider sets video.volume, the quality menu lists
// hls.js's renditions and switching sets its level, picture-in-picture is
// offered exactly where the browser has it, and "N s behind live" shows a
// number beside Go to live.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep } from './harness.mjs';

const env = useEnv({ name: 'i18n-controls' });

const ROOT = `document.querySelector('[data-player-state]')`;
const VIDEO = `${ROOT}.querySelector('video')`;
// What the viewer reads: the headline, the root's lang/dir, the page title.
const words = (p) => p.peek(`(() => {
  const r = ${ROOT};
  const text = (sel) => { const e = r && r.querySelector(sel); return e ? e.textContent.trim() : null; };
  return {
    lang: r && r.getAttribute('lang'), dir: r && r.getAttribute('dir'),
    title: text('.jlp-title'), badge: text('[part="live-badge"]'), viewers: text('[data-viewers]'),
    goLive: text('[data-action="go-live"]'),
    play: r && r.querySelector('.jlp-controls [data-action="play"]')?.getAttribute('aria-label'),
    volume: r && r.querySelector('[data-action="volume"]')?.getAttribute('aria-label'),
    pageTitle: document.title, htmlLang: document.documentElement.lang, htmlDir: document.documentElement.dir,
  };
})()`);
const catalogues = (p) => p.allRequests.filter((r) => /\/i18n\/[^/]+\.json(\?|$)/.test(r.url)).map((r) => r.url.split('/').pop());

describe('language', { concurrency: true }, () => {
  it('?lang=de: German words, a German compact number, only de.json fetched', { timeout: 120_000 }, async () => {
    const { uid } = await env.input('de');
    const p = await env.open({ query: { input: uid, lang: 'de' }, id: uid, name: 'de' });
    await p.waitForState('waiting', 15_000);
    await waitWords(p, (x) => x.title === 'Der Stream beginnt in Kürze', 'German headline');
    const waiting = await words(p);
    assert.equal(waiting.lang, 'de');
    assert.equal(waiting.dir, 'ltr');
    assert.equal(waiting.pageTitle, 'Livestream der Besprechung', 'the watch page around the player too');
    assert.equal(waiting.htmlLang, 'de');

    await env.control.setViewers(uid, 1_234_567);
    await env.control.startBroadcast(uid);
    await p.waitForState('live', 30_000);
    const live = await waitWords(p, (x) => /Zuschauer/.test(x.viewers || ''), 'German viewer count');
    // Intl's German: decimal comma and "Mio." ("1,2 Mio. Zuschauer").
    assert.match(live.viewers, /^1,2\s?Mio\.\s+Zuschauer$/, `German compact number: ${live.viewers}`);
    assert.equal(live.play, 'Abspielen', 'controls labelled in German for screen readers');
    assert.equal(live.volume, 'Lautstärke');
    assert.equal(live.goLive, 'Zum Livebild');
    assert.deepEqual(catalogues(p), ['de.json'], 'only the German catalogue was downloaded');
    assertNoPanic(assert, p);
  });

  it('lang=ar: right to left, the layout mirrored', { timeout: 60_000 }, async () => {
    const { uid } = await env.input('ar');
    const p = await env.open({ query: { input: uid, lang: 'ar' }, id: uid, name: 'ar' });
    await p.waitForState('waiting', 15_000);
    const w = await waitWords(p, (x) => x.dir === 'rtl' && x.title === 'سيبدأ البث قريبًا', 'Arabic, right to left');
    assert.equal(w.lang, 'ar');
    assert.equal(w.htmlDir, 'rtl');
    // Logical CSS: the badge row sits at the inline start, on the right in RTL.
    const side = await p.peek(`(() => {
      const stage = ${ROOT}.querySelector('.jlp-stage').getBoundingClientRect();
      const top = ${ROOT}.querySelector('.jlp-top').getBoundingClientRect();
      const controls = ${ROOT}.querySelector('.jlp-controls');
      return { fromRight: stage.right - top.right, fromLeft: top.left - stage.left, direction: getComputedStyle(controls).direction };
    })()`);
    assert.ok(side.fromRight < 20 && side.fromLeft > side.fromRight, `badge row on the right: ${JSON.stringify(side)}`);
    assert.equal(side.direction, 'rtl');
    assert.deepEqual(catalogues(p), ['ar.json']);
    assertNoPanic(assert, p);
  });

  it('a language we lack falls back to English, and nothing is fetched', { timeout: 60_000 }, async () => {
    const { uid } = await env.input('xx');
    const p = await env.open({ query: { input: uid, lang: 'sv' }, id: uid, name: 'sv', context: { locale: 'en-US' } });
    await p.waitForState('waiting', 15_000);
    await sleep(1_000); // a catalogue, had one been asked for, would be in by now
    const w = await words(p);
    assert.equal(w.title, 'The stream will start soon');
    assert.equal(w.lang, 'en');
    assert.deepEqual(catalogues(p), [], 'English is built in');
    assertNoPanic(assert, p);
  });

  it('no lang option: the browser\'s languages choose (navigator.languages)', { timeout: 60_000 }, async () => {
    const { uid } = await env.input('ja');
    const p = await env.open({ query: { input: uid }, id: uid, name: 'ja', context: { locale: 'ja-JP' } });
    await p.waitForState('waiting', 15_000);
    assert.equal(await p.peek('navigator.languages[0]'), 'ja-JP');
    const w = await waitWords(p, (x) => x.title === 'まもなく配信が始まります', 'Japanese headline');
    assert.equal(w.lang, 'ja');
    assert.deepEqual(catalogues(p), ['ja.json']);
    // Traditional Chinese has no catalogue: the next language (English) wins.
    const q = await env.open({ query: { input: uid }, id: uid, name: 'zh-TW', context: { locale: 'zh-TW' } });
    await q.waitForState('waiting', 15_000);
    await sleep(1_000);
    assert.equal((await words(q)).title, 'The stream will start soon');
    assert.deepEqual(catalogues(q), []);
    assertNoPanic(assert, p, q);
  });
});

async function waitWords(p, pred, what) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await words(p);
    if (pred(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

describe('controls people expect (hls.js, two renditions)', () => {
  it('volume, quality, picture-in-picture, behind live', { timeout: 180_000 }, async () => {
    const { uid } = await env.input('controls');
    await env.control.startBroadcast(uid, { abr: true });
    const p = await env.open({ query: { input: uid }, id: uid, name: 'controls', engine: 'hlsjs' });
    await p.waitForState('live', 45_000);
    await p.waitForPlaying({ timeout: 30_000 });

    // Volume: a slider, operated with the keyboard (step 5 %).
    const slider = '[data-player-state] input[data-action="volume"]';
    assert.equal(await p.peek(`${VIDEO}.volume`), 1);
    await p.page.focus(slider);
    for (let i = 0; i < 4; i++) await p.page.keyboard.press('ArrowLeft');
    await p.waitUntil((s) => Math.abs(s.video.volume - 0.8) < 0.001, { timeout: 5_000, what: 'video.volume 0.8 after 4 × ArrowLeft' });
    const box = await p.page.locator(slider).boundingBox();
    assert.ok(box.width >= 24 && box.height >= 24, `slider target ≥ 24×24 px: ${box.width}×${box.height}`);
    // To 0 is mute; up again unmutes.
    await p.page.keyboard.press('Home');
    await p.waitUntil((s) => s.video.muted && s.video.volume === 0, { timeout: 5_000, what: 'slider at 0 mutes' });
    await p.page.keyboard.press('End');
    await p.waitUntil((s) => !s.video.muted && s.video.volume === 1, { timeout: 5_000, what: 'slider up unmutes' });

    // Behind live: 12 s behind the edge (hls.js pulls back only past 14 s by its own measure,
    // and catches up at up to 1.5×), the readout shows the number.
    // (once the broadcast has that much behind its edge).
    const window = `(() => { const s = ${VIDEO}.seekable; return s.length ? s.end(s.length - 1) - s.start(0) : 0; })()`;
    for (let i = 0; i < 60 && (await p.peek(window)) < 16; i++) await sleep(500);
    await p.peek(`(() => { const v = ${VIDEO}; v.currentTime = v.seekable.end(v.seekable.length - 1) - 12; })()`);
    let behind = null;
    for (let i = 0; i < 40 && !(behind && behind.visible && behind.goLive); i++) {
      await sleep(250);
      behind = await p.peek(`(() => {
        const e = ${ROOT}.querySelector('[data-behind-live]');
        const go = ${ROOT}.querySelector('[data-action="go-live"]');
        return { text: e.textContent.trim(), visible: e.checkVisibility(), goLive: go.checkVisibility(), part: e.getAttribute('part') };
      })()`);
    }
    assert.ok(behind.goLive, `Go to live is offered: ${JSON.stringify(behind)}`);
    assert.ok(behind.visible, `the readout is shown beside Go to live: ${JSON.stringify(behind)}`);
    assert.equal(behind.part, 'behind-live');
    const n = Number((behind.text.match(/^(\d+) s behind live$/) || [])[1]);
    assert.ok(n >= 8 && n <= 16, `a number of seconds behind: ${JSON.stringify(behind)}`);

    // Quality: Auto plus each rendition hls.js has; choosing one sets its level.
    const menu = '[data-player-state] select[data-action="quality"]';
    let options = null;
    for (let i = 0; i < 50 && !options; i++) {
      options = await p.peek(`(() => {
        const m = document.querySelector('${menu}');
        return m && !m.hidden && m.options.length > 1 ? [...m.options].map((o) => ({ value: o.value, text: o.textContent.trim() })) : null;
      })()`);
      if (!options) await sleep(200);
    }
    const levels = await p.peek('window.__e2eHls.hls.levels.map((l) => l.height)');
    assert.ok(levels.length >= 2, `the stream has renditions: ${levels}`);
    assert.ok(options, 'the quality menu is shown on hls.js');
    assert.equal(options[0].value, 'auto');
    assert.match(options[0].text, /^Auto/);
    assert.deepEqual(options.slice(1).map((o) => o.text), levels.map((h) => `${h}p`), 'each rendition by its height');
    const lowest = levels.indexOf(Math.min(...levels));
    await p.page.selectOption(menu, String(lowest));
    for (let i = 0; i < 75 && (await p.peek('window.__e2eHls.hls.currentLevel')) !== lowest; i++) await sleep(200);
    assert.equal(await p.peek('window.__e2eHls.hls.currentLevel'), lowest, 'switching sets hls.js\'s level');
    assert.equal(await p.peek('window.__e2eHls.hls.autoLevelEnabled'), false);
    await p.page.selectOption(menu, 'auto');
    for (let i = 0; i < 25 && !(await p.peek('window.__e2eHls.hls.autoLevelEnabled')); i++) await sleep(200);
    assert.equal(await p.peek('window.__e2eHls.hls.autoLevelEnabled'), true, 'Auto gives the choice back to hls.js');

    // Picture-in-picture: offered exactly where the browser has it.
    const pip = await p.peek(`(() => {
      const b = ${ROOT}.querySelector('[data-action="pip"]');
      return { supported: !!document.pictureInPictureEnabled, shown: !!b && !b.hidden, label: b && b.getAttribute('aria-label'), pressed: b && b.getAttribute('aria-pressed') };
    })()`);
    assert.equal(pip.shown, pip.supported, `PiP button present iff supported: ${JSON.stringify(pip)}`);
    if (pip.supported) {
      assert.equal(pip.label, 'Picture in picture');
      assert.equal(pip.pressed, 'false');
    }

    assertNoPanic(assert, p);
  });
});
