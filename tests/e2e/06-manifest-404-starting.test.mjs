// Cloudflare says live up to ~30 s before the manifest is playable: the page
// shows `starting`, keeps retrying with backoff, then plays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, SAYS } from './harness.mjs';

const env = useEnv({ name: 'manifest-404' });

test('manifest 404 for 20 s after live → starting, then plays', { timeout: 120_000 }, async () => {
  const { uid } = await env.input('m404');
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('waiting', 15_000);
  await p.setMarker();

  await env.control.setFaults(uid, { manifest404Seconds: 20 });
  const tStart = Date.now();
  await env.control.start(uid, {});

  const starting = await p.waitForState('starting', 30_000);
  assert.equal(starting.title, SAYS.headline.starting, 'the viewer is told the stream is starting');
  assert.equal(starting.ariaLive, SAYS.headline.starting, 'the live region says the same');
  // A 404 while starting is expected, not an error: no error sentence yet.
  assert.equal(starting.shownMessage, null, 'no error sentence in the first minute of starting');
  await p.waitUntil((x) => x.state === 'starting' && SAYS.retryIn.test(x.meta || ''), { timeout: 20_000, what: 'the retry countdown while starting' });
  await p.waitUntil(() => p.requestsOf('manifest').some((r) => r.status === 404), { timeout: 30_000, what: 'a 404 manifest answer' });

  await p.waitForState('live', 75_000);
  await p.waitForPlaying({ timeout: 30_000 });
  const tPlaying = Date.now();
  const seq = await p.stateSequence();
  assert.ok(seq.indexOf('starting') !== -1 && seq.lastIndexOf('live') > seq.indexOf('starting'), `starting before live (${seq.join(' → ')})`);
  assert.ok(await p.markerSurvived(), 'no page reload');

  const m = p.requestsOf('manifest');
  const n404 = m.filter((r) => r.status === 404).length;
  assert.ok(n404 >= 2, `the manifest was retried (${n404} × 404)`);
  assert.ok(n404 <= 20, `retries are backed off, not hammered (${n404} × 404 in ~20 s)`);
  // The origin turned playable ~20 s after start; the player should not lag far behind.
  const lag = (tPlaying - tStart) / 1000;
  assert.ok(lag < 60, `plays within 60 s of the start (took ${lag.toFixed(1)} s)`);
  console.log(`start → playing with 20 s of manifest 404: ${lag.toFixed(1)} s, ${n404} manifest 404s`);
  assertNoPanic(assert, p);
});
