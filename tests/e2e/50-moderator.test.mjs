// The moderator page against the backend's go-live API and the stand-in:
// the token leaves the address at once and travels only as a Bearer header,
// the go-live string is masked until "Show" and copies whole, publishing
// to it as Jibri does turns the status live, stopping ends it and lists the
// recording; a refused token, or none, shows only the reason.
//
// With E2E_UPDATE_DOCS=1 it also refreshes docs/screenshots/moderator-*.png
// (360 and 1440 px, light and dark) while the second broadcast is live.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import * as H from './harness.mjs';

const { useEnv, waitFor, sleep, REPO } = H;

const APP_ID = 'e2e-moderator';
const APP_SECRET = 'e2e-moderator-secret-7d41c0a9b25e';
const env = useEnv({
  name: 'moderator',
  // A generous go-live rate: several pages share one client address here.
  backend: { env: { JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: APP_SECRET, GO_LIVE_RATE_PER_MINUTE: '600', GO_LIVE_BURST: '100' } },
});

const { jwtHS256, publishLikeJibri } = H;

function token(room, { secret = APP_SECRET, features = { livestreaming: true } } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return jwtHS256({
    iss: APP_ID, aud: APP_ID, sub: '*', room, nbf: now - 5, exp: now + 3600,
    context: { user: { name: 'Moderator', moderator: true }, features },
  }, secret);
}

// Jibri's ffmpeg flags (../shared/cloudflare/README.md), a test pattern
// instead of the meeting.
const publish = (url, opts = {}) => publishLikeJibri(url, { size: '640x360', seconds: 300, ...opts });

async function stopPublisher(proc, signal = 'SIGINT') {
  try { proc.kill(signal); } catch {}
  const t = setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch {} }, 10_000);
  await proc.exited;
  clearTimeout(t);
}

// Every value data-input-status takes, in order, however briefly (the
// status polls every 6 s; a spec that only peeks could miss one).
const RECORD_STATUSES = `(() => {
  window.__statuses = [];
  new MutationObserver(() => {
    const m = document.querySelector('main.mod');
    const v = m && m.getAttribute('data-input-status');
    if (v && window.__statuses[window.__statuses.length - 1] !== v) window.__statuses.push(v);
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-input-status'] });
})()`;

// One read of everything the spec asserts, without a user gesture.
const SNAPSHOT = `(() => {
  const q = (s) => document.querySelector(s);
  const root = q('main.mod');
  const sid = q('[data-stream-id]');
  const watch = q('[data-watch-url]');
  const health = {};
  for (const el of document.querySelectorAll('[data-health]')) {
    health[el.getAttribute('data-health')] = { value: el.getAttribute('data-value'), text: el.textContent.trim(), title: el.getAttribute('title') };
  }
  return {
    href: location.href,
    phase: root && root.getAttribute('data-phase'),
    status: root && root.getAttribute('data-input-status'),
    refused: q('[data-refused]') && q('[data-refused]').textContent.trim(),
    streamId: sid && sid.textContent.trim(),
    masked: sid && sid.getAttribute('data-masked'),
    watchUrl: watch && watch.getAttribute('href'),
    since: q('[data-status-since]') && q('[data-status-since]').textContent.trim(),
    health,
    recordings: [...document.querySelectorAll('[data-recording]')].map((li) => ({
      uid: li.getAttribute('data-recording'),
      duration: Number(li.querySelector('[data-duration]').getAttribute('data-duration')),
      replay: li.querySelector('a').getAttribute('href'),
      created: li.querySelector('time').getAttribute('datetime'),
    })),
    createButton: !!q('[data-action="create-input"]'),
    statuses: window.__statuses || [],
    qoe: {
      now: q('[data-qoe="viewers-now"]') && q('[data-qoe="viewers-now"]').getAttribute('data-value'),
      rows: [...document.querySelectorAll('[data-qoe-row]')].map((tr) => {
        const row = { kind: tr.getAttribute('data-qoe-row'), uid: tr.getAttribute('data-video-uid') };
        for (const td of tr.querySelectorAll('[data-qoe]')) row[td.getAttribute('data-qoe')] = td.getAttribute('data-value');
        return row;
      }),
      chart: Object.fromEntries([...document.querySelectorAll('[data-qoe-chart] polyline')]
        .map((l) => [l.getAttribute('data-series'), (l.getAttribute('points') || '').trim().split(' ').filter(Boolean).length])),
    },
    bodyText: document.body.innerText.slice(0, 600),
  };
})()`;

async function openModerator({ room, jwt, name, viewport = { width: 1280, height: 900 }, colorScheme = 'light' }) {
  const context = await env.browser.newContext({ viewport, colorScheme });
  const origin = env.backend.url;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  await page.addInitScript(RECORD_STATUSES);
  const cdp = await context.newCDPSession(page);
  const m = { name, page, context, requests: [], pageErrors: [], console: [] };
  page.on('request', (r) => m.requests.push({ url: r.url(), headers: r.headers(), method: r.method() }));
  page.on('pageerror', (e) => m.pageErrors.push(String(e && (e.stack || e.message) || e)));
  page.on('console', (c) => m.console.push({ type: c.type(), text: c.text() }));
  m.peek = async () => {
    const r = await cdp.send('Runtime.evaluate', { expression: SNAPSHOT, returnByValue: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
    return r.result.value;
  };
  m.until = (pred, { timeout = 20_000, what }) => waitFor(async () => { const s = await m.peek(); return pred(s) ? s : null; },
    { timeout, interval: 250, what: `${what} on ${name}`, describe: async () => JSON.stringify(await m.peek()) });
  m.panics = () => [...m.pageErrors, ...m.console.filter((c) => /panicked|unreachable/i.test(c.text)).map((c) => c.text)];
  const q = new URLSearchParams();
  if (room !== undefined) q.set('room', room);
  if (jwt !== undefined) q.set('jwt', jwt);
  await page.goto(`${origin}/moderator/?${q}`, { waitUntil: 'commit' });
  m.close = () => context.close().catch(() => {});
  return m;
}

const roomName = (label) => `e2e${label}${crypto.randomBytes(3).toString('hex')}`;

describe('moderator page', { concurrency: false }, () => {
  it('token out of the address, go-live string, live → ended → recording', { timeout: 240_000 }, async () => {
    const room = roomName('mod');
    const jwt = token(room);
    const m = await openModerator({ room, jwt, name: 'main' });
    try {
      const ready = await m.until((s) => s.phase === 'ready', { what: 'the page ready' });
      assert.ok(!ready.href.includes(jwt) && !ready.href.includes('jwt='), `token gone from the address: ${ready.href}`);
      assert.ok(ready.href.includes(`room=${room}`), 'the room stays in the address');
      assert.equal(await m.page.evaluate(() => document.referrer), '');

      // No input yet: the page offers to get one.
      let s = ready;
      if (s.createButton) {
        await m.page.click('[data-action="create-input"]');
        s = await m.until((x) => x.streamId, { what: 'the go-live string' });
      }
      assert.equal(s.masked, 'true', 'masked until Show');
      assert.ok(!/\/live\/[^•]+$/.test(s.streamId), `the key is hidden: ${s.streamId}`);
      await m.page.click('[data-action="toggle-stream-id"]');
      s = await m.until((x) => x.masked === 'false', { what: 'the string shown' });
      const streamId = s.streamId;
      assert.match(streamId, /^rtmps?:\/\/[^/]+\/live\/.+/, 'the string Jitsi takes: rtmp(s)://host/live/<key>');
      await m.page.click('[data-action="copy-stream-id"]');
      assert.equal(await m.page.evaluate(() => navigator.clipboard.readText()), streamId, 'Copy copies the whole string');
      assert.ok(s.watchUrl && /[?&]input=/.test(s.watchUrl), `watch URL: ${s.watchUrl}`);

      // By keyboard, and the status polls (every 6 s) leave the focus where it is.
      await m.page.focus('[data-action="toggle-stream-id"]');
      await m.page.keyboard.press('Enter');
      await m.until((x) => x.masked === 'true', { what: 'masked again by keyboard' });
      await sleep(7000);
      assert.equal(await m.page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-action')),
        'toggle-stream-id', 'focus survives the status polls');
      await m.page.keyboard.press('Enter');
      await m.until((x) => x.masked === 'false', { what: 'shown again by keyboard' });
      assert.equal(s.status, 'waiting');

      // The token only ever travelled as a header, never in a URL.
      const api = m.requests.filter((r) => r.url.includes('/api/rooms/'));
      assert.ok(api.length >= 1);
      for (const r of api) assert.equal(r.headers.authorization, `Bearer ${jwt}`);
      assert.deepEqual(m.requests.filter((r) => r.url.includes(jwt) && !r.url.includes('/moderator/?')), [], 'no request URL carries the token');

      // A publisher with the longest GOP Cloudflare takes (10 s): connected
      // for at least 10 s before its first segment makes it live. Killing it
      // (Jibri's machine dying) leaves the input reconnecting for the input's
      // timeoutSeconds (10 s, the backend's default), then ended.
      const first = publish(streamId, { gop: 300, seconds: 60 });
      try {
        s = await m.until((x) => x.status === 'connected', { timeout: 30_000, what: 'status connected' });
        s = await m.until((x) => x.status === 'live', { timeout: 40_000, what: 'status live after connected' });
      } finally {
        await stopPublisher(first, 'SIGKILL');
      }
      s = await m.until((x) => x.status === 'reconnecting', { timeout: 20_000, what: 'status reconnecting' });
      s = await m.until((x) => x.status === 'ended', { timeout: 40_000, what: 'status ended after the wait' });
      assert.deepEqual(s.statuses, ['waiting', 'connected', 'live', 'reconnecting', 'ended'], 'each status in order, none skipped');
      console.log(`status: ${s.statuses.join(' → ')}`);

      // Publish as Jibri does: the status goes live.
      const pub = publish(streamId);
      try {
        s = await m.until((x) => x.status === 'live', { timeout: 60_000, what: 'status live' });
        assert.match(s.since, /changed/);

        // The preview plays it and the figures move: what was sent, ±1 fps.
        // On the browser's own HLS first (`auto` is hls.js on this Chromium).
        const num = (x, k) => (x.health[k] && x.health[k].value !== '' ? Number(x.health[k].value) : null);
        await m.page.click('[data-action="preview-engine"][data-engine="native"]');
        s = await m.until((x) => x.health.resolution.value === '640x360' && num(x, 'fps') > 0 && num(x, 'decoded-frames') > 0,
          { timeout: 60_000, what: 'preview figures (browser HLS)' });
        s = await m.until((x) => Math.abs(num(x, 'fps') - 30) <= 1, { timeout: 15_000, what: 'fps 30 ± 1' });
        assert.ok(num(s, 'dropped-frames') !== null, 'dropped frames readable');
        assert.ok(num(s, 'buffer') !== null, 'buffer ahead readable');
        // "auto" is the browser's own HLS unless the player fell back to
        // hls.js on this page (it does when the browser's player gives up,
        // and keeps hls.js for the page's life).
        const engine = await waitFor(() => m.page.evaluate(() => {
          // The element that plays (the page's loader may have made another).
          const all = [...(document.getElementById('mod-preview-frame')?.contentDocument?.querySelectorAll('video') || [])];
          const v = all.find((x) => !x.paused && x.currentTime > 0) || null;
          if (!v || !v.currentSrc) return null;
          return v.currentSrc.startsWith('blob:') ? 'hls.js' : 'browser HLS';
        }), { timeout: 15_000, what: 'the preview\'s <video> and its source' });
        for (const k of ['throughput', 'bitrate']) {
          if (engine === 'browser HLS') {
            // The figures of the preview before the switch may still show
            // for a moment: wait for the browser's HLS to take over.
            // Throughput may come from the segments' Resource Timing on
            // the browser's HLS; the declared bitrate cannot.
            await m.until((x) => (x.health[k].value === '' && !!x.health[k].title) || (k === 'throughput' && num(x, k) > 0),
              { timeout: 15_000, what: `${k}: measured, or unknown on the browser's HLS with a tooltip saying why` });
          } else {
            await m.until((x) => num(x, k) > 0, { timeout: 15_000, what: `${k} on the fallen-back hls.js` });
          }
        }
        const d1 = num(s, 'decoded-frames');
        // Within 10 s: a loaded machine can stall the preview for a moment.
        await m.until((x) => num(x, 'decoded-frames') > d1, { timeout: 10_000, what: 'decoded frames keep counting' });
        console.log(`preview (auto, playing on ${engine}): ${s.health.resolution.value}, ${s.health.fps.value} fps, buffer ${s.health.buffer.value} s, dropped ${s.health['dropped-frames'].value}`);

        // On hls.js every figure is known: the player hands over the
        // rendition, the fragment loads and the wall-clock time it plays.
        await m.page.click('[data-action="preview-engine"][data-engine="hlsjs"]');
        s = await m.until((x) => ['latency', 'fps', 'throughput', 'bitrate', 'clock-latency'].every((k) => num(x, k) !== null) && num(x, 'fps') > 0,
          { timeout: 60_000, what: 'every figure on hls.js' });
        s = await m.until((x) => Math.abs(num(x, 'fps') - 30) <= 1, { timeout: 15_000, what: 'fps 30 ± 1 on hls.js' });
        assert.equal(s.health.resolution.value, '640x360');
        assert.ok(num(s, 'latency') >= 2 && num(s, 'latency') <= 20, `latency behind live ${num(s, 'latency')} s`);
        assert.ok(num(s, 'throughput') > 0, `throughput ${num(s, 'throughput')}`);
        assert.ok(num(s, 'bitrate') > 0, `declared bitrate ${num(s, 'bitrate')}`);
        // Behind the wall clock: at least as far as behind the live edge
        // (the edge is itself behind the camera), and not absurd.
        assert.ok(num(s, 'clock-latency') >= num(s, 'latency') - 1 && num(s, 'clock-latency') <= 40,
          `behind the wall clock ${num(s, 'clock-latency')} s (live edge ${num(s, 'latency')} s)`);
        assert.ok(num(s, 'dropped-frames') !== null, 'dropped frames readable on hls.js');
        for (const k of ['throughput', 'bitrate', 'clock-latency', 'latency']) assert.equal(s.health[k].title, null, `${k}: no "why" once known`);
        console.log(`preview (hls.js): ${s.health.resolution.value}, ${s.health.fps.value} fps, bitrate ${s.health.bitrate.value} bit/s, `
          + `throughput ${s.health.throughput.value} bit/s, ${s.health.latency.value} s behind the live edge, `
          + `${s.health['clock-latency'].value} s behind the wall clock, dropped ${s.health['dropped-frames'].value}`);

        // A viewer raises the count the backend reports (the preview is one).
        const before = num(await m.until((x) => num(x, 'viewers') !== null, { timeout: 60_000, what: 'viewers known' }), 'viewers');
        const viewer = await env.browser.newContext();
        try {
          const vp = await viewer.newPage();
          await vp.goto(s.watchUrl, { waitUntil: 'commit' });
          s = await m.until((x) => num(x, 'viewers') >= before + 1, { timeout: 60_000, what: `viewers above ${before}` });
          // The viewer watches a few seconds and leaves: its player sends its
          // viewing figures (the last batch on pagehide), and the page shows
          // them for this broadcast, with the chart.
          await vp.waitForFunction(() => { const v = document.querySelector('video'); return v && v.currentTime > 2; }, null, { timeout: 45_000 });
          await sleep(3000);
          await vp.goto('about:blank');
        } finally {
          await viewer.close();
        }
        s = await m.until((x) => x.qoe.rows.some((r) => r.kind === 'broadcast' && Number(r.views) >= 1 && Number(r.minutes) > 0) && x.qoe.chart.viewers >= 2,
          { timeout: 75_000, what: 'viewing figures for this broadcast' });
        const b = s.qoe.rows.find((r) => r.kind === 'broadcast');
        assert.equal(b.views, '1', 'one view: the preview sends none (qoe=0)');
        assert.ok(Number(b.minutes) > 0 && Number(b.minutes) < 2, `minutes viewed ${b.minutes}`);
        assert.ok(Number(b['startup-median']) > 0 && Number(b['startup-p90']) >= Number(b['startup-median']), `start-up ${b['startup-median']} / ${b['startup-p90']} ms`);
        assert.ok(b.rebuffer !== '' && Number(b.rebuffer) >= 0, `rebuffer ${b.rebuffer} %`);
        assert.equal(b.failures, '0');
        assert.ok(s.qoe.now !== null && s.qoe.now !== '' && Number(s.qoe.now) >= 0, `watching now ${s.qoe.now}`);
        assert.ok(s.qoe.chart.rebuffer >= 2, 'the rebuffering line has points');
        console.log(`viewing figures: ${JSON.stringify(b)}, watching now ${s.qoe.now}, chart ${JSON.stringify(s.qoe.chart)}`);
      } finally {
        await stopPublisher(pub);
      }
      s = await m.until((x) => x.status === 'ended', { timeout: 60_000, what: 'status ended' });
      s = await m.until((x) => x.recordings.length >= 1, { timeout: 90_000, what: 'the recording listed' });
      const rec = s.recordings[0];
      assert.ok(rec.duration > 2, `recording duration ${rec.duration} s`);
      assert.match(rec.replay, new RegExp(`[?&]video=${rec.uid}`));
      console.log(`moderator: live → ended, recording ${rec.uid} of ${rec.duration.toFixed(1)} s`);

      if (process.env.E2E_UPDATE_DOCS === '1') await screenshots(room, jwt, streamId);
      assert.deepEqual(m.panics(), []);
    } finally {
      await m.close();
    }
  });

  it('a refused token, or none, shows only the reason', { timeout: 60_000 }, async () => {
    const room = roomName('ref');
    const cases = [
      { name: 'forged', jwt: token(room, { secret: 'not-the-app-secret' }), reason: /./ },
      { name: 'no-permission', jwt: token(room, { features: { livestreaming: false } }), reason: /./ },
      { name: 'no-token', jwt: undefined, reason: /token/i },
    ];
    for (const c of cases) {
      const m = await openModerator({ room, jwt: c.jwt, name: c.name });
      try {
        const s = await m.until((x) => x.phase === 'refused', { what: 'refused' });
        assert.match(s.refused, c.reason);
        assert.equal(s.bodyText.trim(), s.refused, `${c.name}: nothing but the reason`);
        assert.equal(s.streamId, null);
        assert.deepEqual(Object.keys(s.health), []);
        if (c.jwt) assert.ok(!s.href.includes(c.jwt), 'token gone from the address');
        console.log(`${c.name}: "${s.refused}"`);
        assert.deepEqual(m.panics(), []);
      } finally {
        await m.close();
      }
    }
  });
});

// docs/screenshots/moderator-{360,1440}-{light,dark}.png, while a second
// broadcast is live (so the status, figures and recordings are filled in).
async function screenshots(room, jwt, streamId) {
  const pub = publish(streamId);
  try {
    for (const [width, height] of [[1440, 1000], [360, 780]]) {
      for (const colorScheme of ['light', 'dark']) {
        const m = await openModerator({ room, jwt, name: `shot-${width}-${colorScheme}`, viewport: { width, height }, colorScheme });
        try {
          // On hls.js, so that every figure shows; with the viewing figures.
          await m.until((x) => x.status === 'live' && x.recordings.length >= 1 && x.qoe.rows.length >= 1,
            { timeout: 60_000, what: 'live with a recording and viewing figures' });
          await m.page.click('[data-action="preview-engine"][data-engine="hlsjs"]');
          // Settled: the frame rate's 3 s window past the switch's start-up.
          await m.until((x) => ['fps', 'throughput', 'clock-latency'].every((k) => x.health[k].value !== '')
            && Math.abs(Number(x.health.fps.value) - 30) <= 2,
          { timeout: 60_000, what: 'the preview playing on hls.js, settled' });
          await m.page.evaluate(() => document.activeElement && document.activeElement.blur());
          await sleep(1500);
          const file = path.join(REPO, 'docs/screenshots', `moderator-${width}-${colorScheme}.png`);
          await m.page.screenshot({ path: file, fullPage: true });
          console.log(`screenshot: ${path.relative(REPO, file)}`);
        } finally {
          await m.close();
        }
      }
    }
  } finally {
    await stopPublisher(pub);
  }
}
