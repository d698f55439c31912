// Go live from Jitsi, end to end against the stand-in as Cloudflare: a
// moderator's token → POST /api/rooms/<room>/live → ffmpeg with Jibri's
// flags publishes to the returned streamId → the watch page at the returned
// watchUrl plays it → the publisher stops → the page leaves live → the
// recording is listed. And every bad token is refused with the right status
// before any live input is created (the stand-in's account counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useEnv, assertNoPanic, waitFor, backendBinary, jwtHS256, publishLikeJibri } from './harness.mjs';

const APP_ID = 'e2e-jitsi-app';
const APP_SECRET = 'e2e-jitsi-secret-7d41c0a9f2b3';
const ROOM = 'townhall';

const env = useEnv({
  name: 'go-live-jitsi',
  server: { args: ['--recording-ready-seconds', '5'] },
  // Room for this spec's many refusals from one address (the limit itself
  // is covered by the backend's tests).
  backend: { env: { JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: APP_SECRET },
    args: ['--go-live-rate-per-minute', '600', '--go-live-burst', '100'] },
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (over = {}) => ({
  aud: APP_ID, iss: APP_ID, sub: 'meet.example.com', room: ROOM, nbf: now() - 5, exp: now() + 600,
  context: { user: { name: 'Ada' }, features: { livestreaming: true, recording: true } },
  ...over,
});

async function call(method, token, room = ROOM) {
  const res = await fetch(`${env.backend.url}/api/rooms/${room}/live`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body };
}

const account = async () => (await env.control.stats()).account;

test('bad tokens are refused and create no live input', { timeout: 60_000 }, async () => {
  const before = await account();
  const cases = [
    ['no token', null, 401],
    ['forged signature', jwtHS256(claims(), 'a-guessed-secret'), 401],
    ['expired', jwtHS256(claims({ nbf: now() - 7200, exp: now() - 3600 }), APP_SECRET), 401],
    ['alg none', jwtHS256(claims(), '', { alg: 'none', typ: 'JWT' }), 401],
    ['wrong room', jwtHS256(claims({ room: 'another-room' }), APP_SECRET), 403],
    ['livestreaming feature false', jwtHS256(claims({ context: { features: { livestreaming: false } } }), APP_SECRET), 403],
    ['no features, not a moderator', jwtHS256(claims({ context: { user: { name: 'Bob', moderator: false } } }), APP_SECRET), 403],
  ];
  for (const [what, token, want] of cases) {
    for (const method of ['POST', 'GET']) {
      const r = await call(method, token);
      assert.equal(r.status, want, `${what} (${method}): ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.error, 'string', `${what}: JSON error body`);
      if (token) assert.ok(!r.body.error.includes(token), `${what}: the token is not echoed`);
    }
  }
  const bad = await call('POST', jwtHS256(claims(), APP_SECRET), 'Not A Room');
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  const after = await account();
  assert.equal(after.creates, before.creates, 'no live input was created by a refused call');
  assert.equal(after.lists, before.lists, 'a refused call never reached the account API');
  console.log(`refused: ${cases.length} bad tokens × POST/GET and a bad room name; account API creates ${after.creates - before.creates}, lists ${after.lists - before.lists}`);
});

test('moderator token → live input → Jibri publishes → viewers watch → stop → recording listed', { timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const mark = (what) => console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);
  // The demo's way to mint a moderator token.
  const { stdout } = await promisify(execFile)(backendBinary(), ['mint-token', '--room', ROOM, '--ttl', '10m'],
    { env: { ...process.env, JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: APP_SECRET } });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  const creates0 = (await account()).creates;
  const first = await call('POST', token);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const live = first.body;
  assert.match(live.streamId, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/[\w-]+$/, 'the stand-in\'s rtmp:// URL with the key');
  assert.equal(live.streamId, `${live.rtmps.url.replace(/\/$/, '')}/${live.rtmps.streamKey}`);
  assert.ok(live.watchUrl.startsWith(`${env.backend.url}/?input=${live.inputUID}`), live.watchUrl);
  assert.match(live.embed, /^<iframe src="/);
  const again = await call('POST', token);
  assert.equal(again.status, 200);
  assert.equal(again.body.inputUID, live.inputUID, 'the same input for the room');
  assert.equal((await account()).creates, creates0 + 1, 'created once');
  mark(`input ${live.inputUID} handed out`);

  // (The moderator page that shows this string is spec 50's.)
  assert.equal((await account()).creates, creates0 + 1, 'still one input');

  const p = await env.openUrl(live.watchUrl, { id: live.inputUID, name: 'viewer' });
  await p.waitForState('waiting', 20_000);
  const jibri = publishLikeJibri(live.streamId);
  mark('publisher started (Jibri flags)');
  await p.waitForState('live', 60_000);
  mark('page live');
  await p.waitForPlaying({ timeout: 30_000 });
  mark('page playing');
  const status = await waitFor(async () => {
    const r = await call('GET', token);
    // The input's status may be up to 5 s old (the backend's status cache).
    return r.status === 200 && r.body.live === true && r.body.status === 'connected' && r.body;
  }, { timeout: 20_000, what: 'GET says live and connected' });
  assert.equal(status.status, 'connected');
  assert.equal(typeof status.videoUID, 'string');
  assert.equal(status.inputUID, live.inputUID);
  assert.equal(jibri.exitCode, null, `publisher still running: ${jibri.stderrText}`);

  // Long enough to be a recording worth listing.
  await new Promise((r) => setTimeout(r, 6_000));
  jibri.kill('SIGINT');
  await jibri.exited;
  mark('publisher stopped');
  await p.waitUntil((s) => s.state === 'ended' || s.state === 'waiting', { timeout: 45_000, what: 'ended or waiting after the publisher left' });
  mark(`page ${await p.state()}`);
  // The recording, as the backend lists it for the watch page...
  const recordings = await waitFor(async () => {
    const r = await fetch(`${env.backend.url}/api/inputs/${live.inputUID}/recordings`, { signal: AbortSignal.timeout(10_000) });
    const body = await r.json();
    return body.recordings.length >= 1 && body.recordings;
  }, { timeout: 60_000, what: 'the recording listed by the backend' });
  assert.equal(recordings[0].uid, status.videoUID, 'the broadcast is the recording');
  mark('recording listed by the backend');
  // ...and on the watch page of a viewer who comes later.
  const later = await env.openUrl(live.watchUrl, { id: live.inputUID, name: 'later-viewer' });
  const listed = await waitFor(async () => {
    const items = await later.peek(`[...document.querySelectorAll('button[data-action="play-recording"]')].map((b) => b.dataset.uid)`);
    return items && items.length >= 1 && items;
  }, { timeout: 30_000, what: 'the recording listed on the watch page' });
  assert.equal(listed[0], status.videoUID, 'the broadcast is the recording');
  mark('recording listed on the watch page');
  const after = await call('GET', token);
  assert.equal(after.body.live, false);
  assertNoPanic(assert, p, later);
});
