// Viewing figures end to end: a moderator takes a room live through the
// backend, pages open the watch URL it hands out (the player posts to the
// backend's /api/qoe because the URL names its recordings endpoint), watch
// a two-rendition broadcast from the stand-in through a segment fault, and
// leave. The figures read back through GET /api/rooms/<room>/qoe (with the
// moderator's token) and /metrics match what the pages saw: views = pages,
// time viewed within 10 %, one rebuffering per page for the fault, the
// rendition changes each page showed. The database is the backend's: SQLite
// in its data dir, or PostgreSQL when DATABASE_URL names one
// (scripts/test.sh runs this spec both ways through scripts/pg-test.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor, jwtHS256, sleep } from './harness.mjs';

const APP_ID = 'e2e-jitsi-app';
const APP_SECRET = 'e2e-jitsi-secret-qoe-51c3';
const ROOM = 'viewing-figures';
const DB = (process.env.DATABASE_URL || '').startsWith('postgres') ? 'PostgreSQL' : 'SQLite';

const env = useEnv({
  name: 'qoe',
  backend: { env: { JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: APP_SECRET },
    // Figures reach the database every second, so the read follows the pages closely.
    args: ['--qoe-flush-seconds', '1'] },
});

const now = () => Math.floor(Date.now() / 1000);
const token = () => jwtHS256({ aud: APP_ID, iss: APP_ID, sub: 'meet.example.com', room: ROOM,
  nbf: now() - 5, exp: now() + 600, context: { user: { name: 'Ada' }, features: { livestreaming: true } } }, APP_SECRET);

// What each page saw, recorded in the page: the first frame, and the
// heights of the picture shown in order (a rendition change is a new height).
const OBSERVE = `(() => {
  const q = window.__qoe = { first: null, heights: [], events: [] };
  // The beacons sent while the page goes away, kept for the next page of
  // this origin to read (Playwright does not show them).
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, body) => {
    const ok = send(url, body);
    try { localStorage.setItem('qoeBeacons', JSON.stringify([...JSON.parse(localStorage.getItem('qoeBeacons') || '[]'), { t: Date.now(), ok, body: String(body) }])); } catch {}
    return ok;
  };
  document.addEventListener('visibilitychange', () => q.events.push('visibility:' + document.visibilityState), true);
  for (const name of ['playing', 'waiting', 'pause', 'seeking', 'seeked', 'emptied', 'loadeddata']) {
    document.addEventListener(name, (e) => {
      if (e.target instanceof HTMLMediaElement) q.events.push(name + '@' + ((Date.now() - (q.first || Date.now())) / 1000).toFixed(1));
    }, true);
  }
  document.addEventListener('loadeddata', () => { if (q.first === null) q.first = Date.now(); }, true);
  document.addEventListener('resize', (e) => {
    const h = e.target && e.target.videoHeight;
    if (h && q.heights[q.heights.length - 1] !== h) q.heights.push(h);
  }, true);
})();`;

async function api(path, auth) {
  const res = await fetch(`${env.backend.url}${path}`, {
    headers: auth ? { authorization: `Bearer ${auth}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  try { return { status: res.status, body: JSON.parse(text) }; } catch { return { status: res.status, body: text }; }
}

async function metric(name) {
  const { body } = await api('/metrics');
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

const beacons = (p) => p.net.filter((r) => new URL(r.url).pathname === '/api/qoe');

test(`pages watch through a segment fault; the figures match (${DB})`, { timeout: 150_000 }, async () => {
  const t0 = Date.now();
  const mark = (what) => console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);
  const jwt = token();
  const live = await fetch(`${env.backend.url}/api/rooms/${ROOM}/live`, {
    method: 'POST', headers: { authorization: `Bearer ${jwt}` }, signal: AbortSignal.timeout(15_000),
  }).then((r) => r.json());
  const uid = live.inputUID;
  assert.match(live.watchUrl, /recordings=/, live.watchUrl);
  // Two renditions (360p and 180p): hls.js starts low and climbs (its first
  // estimate is 500 kbit/s), a real ABR switch.
  await env.control.startBroadcast(uid, { abr: true, size: '640x360' });
  mark(`room ${ROOM} → input ${uid}, broadcast live (abr)`);

  const pages = [
    await env.openUrl(live.watchUrl, { id: uid, name: 'hlsjs', engine: 'hlsjs', initScripts: [OBSERVE] }),
    // Chromium's own HLS, as Safari plays (auto picks hls.js on Chromium).
    await env.openUrl(`${live.watchUrl}&engine=native`, { id: uid, name: 'native', initScripts: [OBSERVE] }),
  ];
  const posted = new Map(pages.map((p) => [p, []]));
  for (const p of pages) {
    p.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/qoe') posted.get(p).push({ t: Date.now() - t0, type: r.resourceType(), body: r.postData() });
    });
  }
  for (const p of pages) await p.waitForPlaying({ timeout: 45_000 });
  mark('both pages playing');

  // A rendition change on the hls.js page. hls.js starts on the first
  // rendition listed (the top: its first estimate, 500 kbit/s, fits none)
  // and loopback never makes it step down, so when it has not switched by
  // itself a test hook (hls.nextLevel, through HLS_SPY) makes the switch
  // ABR would make on a slow link. Chromium's own HLS (the native page)
  // starts low and steps up by itself.
  await sleep(3_000);
  const hlsPage = pages[0];
  let forced = false;
  if ((await hlsPage.peek('window.__qoe.heights')).length < 2) {
    forced = await hlsPage.peek(`(() => {
      const h = window.__e2eHls && window.__e2eHls.hls;
      if (!h || h.levels.length < 2) return false;
      const cur = h.levels[h.currentLevel];
      const other = h.levels.findIndex((l) => cur && l.height !== cur.height);
      if (other < 0) return false;
      h.nextLevel = other;
      return true;
    })()`);
    assert.ok(forced, 'the broadcast has two renditions of different heights');
    await waitFor(async () => (await hlsPage.peek('window.__qoe.heights')).length >= 2,
      { timeout: 20_000, what: 'the hls.js page to show the other rendition' });
  }
  mark(`hls.js rendition change (${forced ? 'forced through hls.nextLevel' : 'by its own ABR'})`);

  const viewing = await waitFor(async () => {
    const r = await api(`/api/rooms/${ROOM}/qoe`, jwt);
    return r.status === 200 && r.body.viewersNow === 2 && r.body;
  }, { timeout: 15_000, what: 'two viewers now' });
  assert.equal(viewing.inputUid, uid);

  await sleep(12_000);
  await env.control.setFaults(uid, { segments404: true });
  mark('segments answer 404');
  await sleep(10_000);
  await env.control.clearFaults(uid);
  mark('segments back');
  for (const p of pages) await p.waitForPlaying({ timeout: 45_000 });
  mark('both pages playing again');
  await sleep(8_000);

  // Leaving (to another page of the backend's origin, which reads what the
  // page sent on its way out): pagehide sends the rest with sendBeacon.
  const seen = [];
  for (const p of pages) {
    const q = await p.peek('window.__qoe');
    const left = Date.now();
    await p.page.goto(`${env.backend.url}/api/nothing`);
    const atExit = JSON.parse((await p.peek(`localStorage.getItem('qoeBeacons')`)) || '[]');
    if (process.env.QOE_DEBUG) console.log(p.name, 'beacons at exit', JSON.stringify(atExit));
    seen.push({ name: p.name, watchMs: left - q.first, heights: q.heights, events: q.events.join(' '), beacons: atExit.length,
      ended: atExit.some((b) => b.ok && JSON.parse(b.body).end) });
  }
  mark('pages left');
  const ups = seen.reduce((n, s) => n + s.heights.filter((h, i) => i > 0 && h > s.heights[i - 1]).length, 0);
  const downs = seen.reduce((n, s) => n + s.heights.filter((h, i) => i > 0 && h < s.heights[i - 1]).length, 0);
  const watchMs = seen.reduce((n, s) => n + s.watchMs, 0);

  const figures = await waitFor(async () => {
    const r = await api(`/api/rooms/${ROOM}/qoe`, jwt);
    const b = r.status === 200 && r.body;
    const done = b && b.viewersNow === 0 && b.broadcasts.length === 1
      && (await metric('jlp_beacons_accepted_total')) >= pages.length * 2;
    return done && b;
  }, { timeout: 20_000, what: 'the pages\' last beacons stored' });
  const v = figures.broadcasts[0];
  const stored = {
    views: v.views,
    minutesViewed: v.minutesViewed,
    rebuffers: await metric('jlp_rebuffer_events_total'),
    qualityChanges: await metric('jlp_quality_changes_total'),
    failures: v.failures,
    up: v.qualityUp,
    down: v.qualityDown,
  };
  const sent = pages.map((p, i) => ({ name: p.name, fetches: beacons(p).length, beacons: seen[i].beacons }));
  if (process.env.QOE_DEBUG) for (const p of pages) console.log(p.name, JSON.stringify(posted.get(p)));
  console.log(`${DB}: stored ${JSON.stringify(stored)}; pages saw ${JSON.stringify(seen)}; beacons ${JSON.stringify(sent)}; hls.js switch ${forced ? 'forced' : 'by ABR'}`);

  assert.equal(v.views, pages.length, 'views = pages');
  assert.equal(v.failures, 0, 'no failure: the fault was ridden out');
  const storedMs = v.minutesViewed * 60_000;
  assert.ok(Math.abs(storedMs - watchMs) <= 0.1 * watchMs,
    `time viewed ${(storedMs / 1000).toFixed(1)} s within 10 % of ${(watchMs / 1000).toFixed(1)} s`);
  assert.equal(stored.rebuffers, pages.length, 'one rebuffering per page, for the fault');
  assert.ok(v.rebufferPercent > 0, `rebuffer % ${v.rebufferPercent}`);
  assert.ok(seen[0].heights.length >= 2, `the hls.js page changed rendition: ${seen[0].heights}`);
  assert.deepEqual([v.qualityUp, v.qualityDown], [ups, downs], 'the rendition changes the pages showed');
  assert.equal(stored.qualityChanges, ups + downs);
  assert.ok(typeof v.startupMedianMs === 'number' && v.startupMedianMs > 0 && v.startupMedianMs < 30_000,
    `start-up ${v.startupMedianMs} ms`);
  // At once after the first frame, then every 30 s (fetch, seen here), and
  // at pagehide (sendBeacon, which Playwright does not show from a page
  // being left: the page keeps a copy in localStorage; the backend counts it).
  for (const s of sent) assert.ok(s.fetches >= 2 && s.fetches + s.beacons <= 3, `${s.name}: ${JSON.stringify(s)}`);
  for (const s of seen) assert.ok(s.ended, `${s.name}: the page said it left (a beacon with end)`);
  const accepted = await metric('jlp_beacons_accepted_total');
  console.log(`beacons accepted: ${accepted} from ${pages.length} pages, each watching ${seen.map((x) => (x.watchMs / 1000).toFixed(0)).join(' s, ')} s`);
  // Each page lived less than a minute: at most 3 requests (any 60 s).
  assert.ok(accepted >= 2 * pages.length && accepted <= 3 * pages.length, `${accepted} beacons`);
  assertNoPanic(assert, ...pages);
});

test('qoe=0: the page sends nothing', { timeout: 90_000 }, async () => {
  const jwt = token();
  const { status, body } = await api(`/api/rooms/${ROOM}/live`, jwt);
  assert.equal(status, 200, JSON.stringify(body));
  const p = await env.openUrl(`${body.watchUrl}&qoe=0`, { id: body.inputUID, name: 'off' });
  await p.waitForPlaying({ timeout: 45_000 });
  await sleep(2_000);
  await p.page.goto('about:blank');
  await sleep(500);
  assert.deepEqual(beacons(p).map((r) => r.url), [], 'no request to /api/qoe');
  assertNoPanic(assert, p);
});
