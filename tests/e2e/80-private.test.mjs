// Private meetings end to end: a room made private through the backend's
// go-live API (its input requires signed URLs at the stand-in, which
// refuses the bare uid as Cloudflare does), watched through the watch URL
// the backend hands out (with `tokenUrl`, the backend's viewer-token
// endpoint). Without `tokenUrl` the page says so in plain words, no
// spinner; with it, it plays. Room A's tokenUrl on room B's page shows the
// message. Under `--viewer-access participants`, a viewer's Jitsi token
// (`#jwt=`) plays, none is refused. With 60 s tokens, one viewer on hls.js
// and one on native HLS watch for 4 minutes at once across at least 3
// refreshes each: no delivery request refused, no `waiting`→`playing`
// longer than 1 s (figures printed: the native source swaps too). Room A's
// broadcast, once recorded, replays through a token of its own; the
// 4-minute one replays on both engines for longer than a token lives,
// through its refreshes, from where it was.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor, sleep, jwtHS256, publishLikeJibri, startBackend } from './harness.mjs';
import { MEDIA_LOG, breaks } from './private-support.mjs';

const APP_ID = 'e2e-jitsi-app';
const APP_SECRET = 'e2e-jitsi-secret-7d41c0a9f2b3';
const TTL_S = 60;
const WATCH_MS = Number(process.env.E2E_PRIVATE_WATCH_MS || 240_000);
const PRIVATE = 'This broadcast is private: you need an invitation link.';
const jitsi = { JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: APP_SECRET };
const backendArgs = ['--viewer-token-ttl', `${TTL_S}s`, '--go-live-rate-per-minute', '600', '--go-live-burst', '100'];

const env = useEnv({
  name: 'private',
  server: { args: ['--recording-ready-seconds', '5'] },
  backend: { env: jitsi, args: backendArgs },
});

let participants = null;
after(async () => { if (participants) await participants.stop(); });

const now = () => Math.floor(Date.now() / 1000);
// A moderator's token (may stream), or a participant's (no features).
const moderator = (room) => jwtHS256({ aud: APP_ID, iss: APP_ID, sub: 'meet.example.com', room, nbf: now() - 5, exp: now() + 3600,
  context: { user: { name: 'Ada', moderator: true }, features: { livestreaming: true } } }, APP_SECRET);
const participant = (room) => jwtHS256({ aud: APP_ID, iss: APP_ID, sub: 'meet.example.com', room, nbf: now() - 5, exp: now() + 3600,
  context: { user: { name: 'Bob' } } }, APP_SECRET);

// Makes `room` private through the go-live API of `backend`.
async function goLivePrivate(backend, room) {
  const res = await fetch(`${backend.url}/api/rooms/${room}/live`, {
    method: 'POST',
    headers: { authorization: `Bearer ${moderator(room)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ private: true }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = await res.json();
  assert.ok(res.status === 200 || res.status === 201, `go-live ${room}: ${res.status} ${JSON.stringify(body)}`);
  assert.equal(body.private, true, `go-live ${room} says private`);
  const watch = new URL(body.watchUrl);
  // The link's proof: the token request names the room's (random) input uid.
  assert.equal(watch.searchParams.get('tokenUrl'), `/api/rooms/${room}/viewer-token?input=${body.inputUID}`, body.watchUrl);
  return { ...body, watch };
}

// The watch URL's query without `tokenUrl`, or with `over` applied.
function query(watch, over = {}) {
  const q = new URLSearchParams(watch.search);
  for (const [k, v] of Object.entries(over)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  return q.toString();
}

const spinnerShown = (p) => p.peek(`(() => { const s = document.querySelector('.jlp-spinner');
  return !!s && getComputedStyle(s).display !== 'none'; })()`);

// The page says the private words, in the error state, without a spinner.
async function saysPrivate(p, timeout = 8_000) {
  const s = await p.waitUntil((x) => x.state === 'error' && x.shownMessage === PRIVATE,
    { timeout, what: 'the private broadcast message' });
  assert.equal(s.errorCode, 'forbidden', 'the host hears forbidden');
  assert.equal(await spinnerShown(p), false, 'no spinner beside the message');
  return s;
}

// Delivery requests (to the stand-in) answered ≥ 400.
const refused = (p) => p.requests.filter((r) => r.url.startsWith(env.server.url) && r.status >= 400);
// POSTs to a viewer-token endpoint.
const tokenRequests = (p) => p.allRequests.filter((r) => r.url.includes('/viewer-token'));
// Those for one recording (`{"video": uid}`), not the broadcast's.
const videoTokenRequests = (p) => tokenRequests(p).filter((r) => /"video"/.test(r.body || ''));
// The distinct first path segments (uid or token) of playlist and segment requests.
const ids = (p) => new Set(p.requests.filter((r) => r.url.startsWith(env.server.url) && ['playlist', 'segment', 'manifest'].includes(r.kind))
  .map((r) => new URL(r.url).pathname.split('/')[1]));

// Room A of the first test: its broadcast is a private recording afterwards.
let roomA = null;
// The long broadcast's room (the fourth test), replayed in the fifth.
let allHands = null;

test('private room: no tokenUrl → the plain message; with it, it plays; room A\'s tokenUrl on room B\'s page → the message', { timeout: 180_000 }, async () => {
  const a = roomA = await goLivePrivate(env.backend, 'lesson-a');
  const b = await goLivePrivate(env.backend, 'lesson-b');
  const jibri = publishLikeJibri(a.streamId, { seconds: 150 });
  try {
    const bare = await env.openUrl(`${env.backend.url}/?${query(a.watch, { tokenUrl: null })}`, { name: 'bare' });
    const t0 = Date.now();
    await saysPrivate(bare);
    console.log(`bare uid: the private message after ${Date.now() - t0} ms`);
    const viewer = await env.open({ base: env.backend.url, query: query(a.watch), name: 'viewer' });
    await viewer.waitForPlaying({ timeout: 90_000 });
    assert.ok(tokenRequests(viewer).length >= 1, 'the player asked the backend for a token');
    assert.deepEqual(refused(viewer).map((r) => r.url.slice(0, 80)), [], 'nothing refused with a token');
    assert.ok(!ids(viewer).has(a.inputUID), 'no delivery request with the bare uid');

    const wrong = await env.open({ base: env.backend.url, query: query(b.watch, { tokenUrl: a.watch.searchParams.get('tokenUrl') }), name: 'wrong-room' });
    await saysPrivate(wrong);
    assert.equal(wrong.requests.filter((r) => r.url.startsWith(env.server.url)).length, 0,
      'room A\'s token was never used for room B');
    // Still there after the player's own retries.
    await sleep(3_000);
    assert.equal((await wrong.snapshot()).shownMessage, PRIVATE);
    assertNoPanic(assert, bare, viewer, wrong);
  } finally {
    jibri.kill('SIGINT');
  }
});

test('participants only: the viewer\'s Jitsi token (#jwt=) plays; without it, the message', { timeout: 180_000 }, async () => {
  participants = await startBackend({ name: 'private-participants', standIn: env.server, env: jitsi,
    args: [...backendArgs, '--viewer-access', 'participants'] });
  const c = await goLivePrivate(participants, 'council');
  const jibri = publishLikeJibri(c.streamId, { seconds: 120 });
  try {
    const jwt = participant('council');
    const member = await env.open({ base: participants.url, query: `${query(c.watch)}#jwt=${jwt}`, name: 'member' });
    await member.waitForPlaying({ timeout: 90_000 });
    assert.ok(member.allRequests.every((r) => !r.url.includes(jwt)), 'the Jitsi token is in no URL');
    const address = await member.peek('location.href');
    assert.ok(!address.includes(jwt) && !address.includes('#'), `the token is out of the address once read (a viewer may copy it): ${address.slice(0, 120)}`);
    assert.ok(address.includes(`input=${c.inputUID}`), 'the rest of the address stays');
    const stranger = await env.open({ base: participants.url, query: query(c.watch), name: 'stranger' });
    await saysPrivate(stranger);
    const other = await env.open({ base: participants.url, query: `${query(c.watch)}#jwt=${participant('another-room')}`, name: 'other-room' });
    await saysPrivate(other);
    assertNoPanic(assert, member, stranger, other);

    // The room's moderator previews it on the moderator page: the preview
    // (the watch page in a frame) gets its tokens with the moderator's own
    // Jitsi token, which a participants-only room asks for.
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = [], urls = [], tokenAsks = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        urls.push(r.url());
        // allHeaders: `headers()` leaves out credentials.
        if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/viewer-token')) tokenAsks.push(r.allHeaders().then((h) => h.authorization || ''));
      });
      const mjwt = moderator('council');
      await page.goto(`${participants.url}/moderator/?room=council&jwt=${mjwt}`, { waitUntil: 'commit' });
      const frame = (expr) => page.evaluate(`(() => { const f = document.getElementById('mod-preview-frame');
        const d = f && f.contentDocument; return d && d.readyState !== 'loading' ? (${expr}) : null; })()`);
      const state = () => frame(`(d.querySelector('[data-player-state]') || {}).getAttribute?.('data-player-state')`);
      await waitFor(async () => (await state()) === 'live', { timeout: 60_000, what: 'the moderator\'s preview of the private room live',
        describe: async () => `state ${await state()}, message ${await frame(`(d.querySelector('[data-message]') || {}).textContent`)}` });
      const frameAddress = await frame('f.contentWindow.location.href');
      assert.ok(!frameAddress.includes(mjwt), 'the preview took the token out of its address');
      const auth = await Promise.all(tokenAsks);
      assert.ok(auth.length >= 1 && auth.every((a) => a === `Bearer ${mjwt}`),
        `the preview asked for tokens with the moderator's Jitsi token: ${JSON.stringify(auth.map((a) => a.slice(0, 12)))}`);
      assert.ok(urls.filter((u) => u.includes(mjwt)).length <= 1, 'the token in no URL but the moderator page\'s own address, which it drops');
      assert.deepEqual(errors, []);
    } finally {
      await context.close().catch(() => {});
    }
  } finally {
    jibri.kill('SIGINT');
  }
});

test('a private room\'s recording replays through a token of its own', { timeout: 120_000 }, async () => {
  assert.ok(roomA, 'room A (first test) broadcast');
  const p = await env.open({ base: env.backend.url, query: query(roomA.watch), name: 'replay' });
  await waitFor(() => p.peek(`!!document.querySelector('[data-action="play-recording"]')`),
    { timeout: 90_000, what: 'the private recording listed', describe: () => p.describe() });
  const asked = tokenRequests(p).length;
  const clicked = Date.now();
  await p.page.click('[data-action="play-recording"]');
  await p.waitForState('replay', 20_000);
  await p.waitForPlaying({ timeout: 30_000 });
  assert.equal(tokenRequests(p).length, asked + 1, 'one token asked for the recording');
  assert.deepEqual(refused(p).map((r) => `${r.kind} ${r.status}`), [], 'nothing refused');
  // Every request of the replay (manifest, playlists, segments) by token.
  const replay = p.requests.filter((r) => r.url.startsWith(env.server.url) && r.t >= clicked
    && ['manifest', 'playlist', 'segment'].includes(r.kind));
  const bare = replay.filter((r) => new URL(r.url).pathname.split('/')[1].split('.').length !== 3);
  assert.ok(replay.some((r) => r.kind === 'segment'), 'segments were fetched');
  assert.equal(bare.length, 0, `${bare.length} of ${replay.length} replay requests without a token`);
  console.log(`recording replayed by token: ${replay.length} requests (manifest, playlists, segments), all by token`);
  assertNoPanic(assert, p);
});

test(`60 s tokens: hls.js and native HLS watch ${WATCH_MS / 60_000} min across ≥ 3 refreshes, nothing refused, no stall > 1 s`, { timeout: WATCH_MS + 180_000 }, async () => {
  const d = allHands = await goLivePrivate(env.backend, 'all-hands');
  const jibri = publishLikeJibri(d.streamId, { seconds: Math.ceil(WATCH_MS / 1000) + 120 });
  try {
    const pages = await Promise.all([
      env.open({ base: env.backend.url, query: query(d.watch), engine: 'hlsjs', name: 'hlsjs', initScripts: [MEDIA_LOG] }),
      env.open({ base: env.backend.url, query: query(d.watch, { engine: 'native' }), name: 'native', initScripts: [MEDIA_LOG] }),
    ]);
    await Promise.all(pages.map((p) => p.waitForPlaying({ timeout: 90_000 })));
    const engines = await Promise.all(pages.map(async (p) => (await p.snapshot()).video.engine));
    assert.deepEqual(engines, ['mse', 'native'], 'one viewer on hls.js (MSE), one on the browser\'s HLS');
    const start = Date.now();
    const tokens0 = pages.map((p) => tokenRequests(p).length);
    // Still live and moving every 20 s of the watch.
    while (Date.now() - start < WATCH_MS) {
      await sleep(Math.min(20_000, WATCH_MS - (Date.now() - start)));
      for (const p of pages) {
        const s = await p.snapshot();
        assert.equal(s.state, 'live', `${p.name} at ${Math.round((Date.now() - start) / 1000)} s`);
      }
      // A native token swap starts the source again (currentTime too): a
      // sample across one is taken again; the swaps' own length is
      // asserted from the media events below.
      const moving = await Promise.all(pages.map(async (p) => (await p.isPlaying(1500, 0.5)) || p.isPlaying(1500, 0.5)));
      assert.deepEqual(moving, [true, true], `both playing at ${Math.round((Date.now() - start) / 1000)} s`);
    }
    for (const [i, p] of pages.entries()) {
      const refreshes = tokenRequests(p).length - tokens0[i];
      const log = await p.peek('window.__media');
      const { waits, swaps } = breaks(log);
      const bad = refused(p).map((r) => `${r.kind} ${r.status}`);
      console.log(`${p.name}: ${refreshes} refreshes in ${Math.round(WATCH_MS / 1000)} s, ${ids(p).size} tokens in delivery URLs, `
        + `waiting→playing ms [${waits.join(', ')}], source swaps emptied→playing ms [${swaps.join(', ')}], `
        + `${p.requests.filter((r) => r.url.startsWith(env.server.url)).length} delivery requests, refused ${bad.length}`);
      assert.ok(refreshes >= 3, `${p.name}: at least 3 refreshes (${refreshes})`);
      assert.ok(ids(p).size >= 4, `${p.name}: the refreshed tokens reached the playlist and segment requests (${ids(p).size})`);
      assert.deepEqual(bad, [], `${p.name}: no delivery request refused`);
      assert.ok(waits.every((ms) => ms <= 1_000), `${p.name}: no stall longer than 1 s: ${waits}`);
      assert.ok(swaps.every((ms) => ms <= 1_000), `${p.name}: no source swap longer than 1 s: ${swaps}`);
      const states = await p.stateSequence();
      assert.equal(states.lastIndexOf('starting') < states.indexOf('live'), true, `${p.name}: never back to starting: ${states}`);
    }
    const [hlsjs] = pages;
    assert.deepEqual(breaks(await hlsjs.peek('window.__media')).swaps, [], 'hls.js: the token changes inside its loader, no new source');
    assertNoPanic(assert, ...pages);
  } finally {
    jibri.kill('SIGINT');
  }
});

// A replay that outlasts its token (60 s here, an hour by default) plays on:
// the player asks for the recording's next token before the last expires;
// hls.js's loader puts it in the next requests, the browser's HLS gets its
// source again, from where it was.
const REPLAY_WATCH_MS = 75_000;
test(`a private recording replayed for ${REPLAY_WATCH_MS / 1000} s, longer than its ${TTL_S} s token, on hls.js and natively: refreshed, nothing refused, never back to the start`, { timeout: REPLAY_WATCH_MS + 180_000 }, async () => {
  assert.ok(allHands, 'the 4-minute broadcast (previous test) ran');
  const pages = await Promise.all([
    env.open({ base: env.backend.url, query: query(allHands.watch), engine: 'hlsjs', name: 'replay-hlsjs', initScripts: [MEDIA_LOG] }),
    env.open({ base: env.backend.url, query: query(allHands.watch, { engine: 'native' }), name: 'replay-native', initScripts: [MEDIA_LOG] }),
  ]);
  const clicked = [];
  for (const p of pages) {
    await waitFor(() => p.peek(`!!document.querySelector('[data-action="play-recording"]')`),
      { timeout: 90_000, what: `${p.name}: the private recording listed`, describe: () => p.describe() });
    clicked.push(Date.now());
    await p.page.click('[data-action="play-recording"]');
  }
  await Promise.all(pages.map((p) => p.waitForState('replay', 20_000)));
  await Promise.all(pages.map((p) => p.waitForPlaying({ timeout: 30_000 })));
  const engines = await Promise.all(pages.map(async (p) => (await p.snapshot()).video.engine));
  assert.deepEqual(engines, ['mse', 'native']);
  const tokens0 = pages.map((p) => videoTokenRequests(p).length);
  const positions = pages.map(() => []);
  const start = Date.now();
  while (Date.now() - start < REPLAY_WATCH_MS) {
    await sleep(Math.min(15_000, REPLAY_WATCH_MS - (Date.now() - start)));
    for (const [i, p] of pages.entries()) {
      // Read where the element has a position: in the ~0.1 s of a native
      // source swap (readyState 0) it reads 0 until it seeks back.
      const s = await waitFor(async () => { const x = await p.snapshot(); return x.video.readyState >= 1 ? x : null; },
        { timeout: 5_000, what: `${p.name}: a position to read` });
      assert.equal(s.state, 'replay', `${p.name} at ${Math.round((Date.now() - start) / 1000)} s`);
      positions[i].push(Math.round(s.video.currentTime));
    }
    const moving = await Promise.all(pages.map(async (p) => (await p.isPlaying(1500, 0.5)) || p.isPlaying(1500, 0.5)));
    assert.deepEqual(moving, [true, true], `both playing at ${Math.round((Date.now() - start) / 1000)} s`);
  }
  for (const [i, p] of pages.entries()) {
    const refreshes = videoTokenRequests(p).length - tokens0[i];
    const replay = p.requests.filter((r) => r.url.startsWith(env.server.url) && r.t >= clicked[i]
      && ['manifest', 'playlist', 'segment'].includes(r.kind));
    const late = replay.filter((r) => r.t >= start + TTL_S * 1000);
    const tokens = new Set(replay.map((r) => new URL(r.url).pathname.split('/')[1]));
    const bad = refused(p).map((r) => `${r.kind} ${r.status}`);
    const { swaps } = breaks(await p.peek('window.__media'));
    console.log(`${p.name}: ${refreshes} refresh(es) in ${REPLAY_WATCH_MS / 1000} s, ${tokens.size} tokens in ${replay.length} replay requests `
      + `(${late.length} after the first token expired), positions every 15 s [${positions[i].join(', ')}] s, `
      + `source swaps emptied→playing ms [${swaps.join(', ')}], refused ${bad.length}`);
    assert.equal(tokens0[i], 1, `${p.name}: one token asked for the recording to start it`);
    assert.ok(refreshes >= 1, `${p.name}: the recording's token refreshed (${refreshes})`);
    assert.ok(tokens.size >= 2, `${p.name}: the new token reached the delivery requests (${[...tokens].length})`);
    assert.ok(late.length > 0, `${p.name}: still fetching after the first token expired`);
    assert.deepEqual(bad, [], `${p.name}: nothing refused`);
    assert.ok(positions[i].every((t, k) => k === 0 || t > positions[i][k - 1]), `${p.name}: always further on: ${positions[i]}`);
    assert.ok(positions[i].at(-1) >= REPLAY_WATCH_MS / 1000 - 10, `${p.name}: played through (${positions[i].at(-1)} s)`);
  }
  assertNoPanic(assert, ...pages);
});
