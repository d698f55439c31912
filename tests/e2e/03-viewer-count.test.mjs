// The viewer count appears while live and is formatted for large numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic } from './harness.mjs';

const env = useEnv({ name: 'viewer-count' });

test('viewer count 1234 → "1.2K", then 87 → "87"', { timeout: 120_000 }, async () => {
  const { uid } = await env.input('views');
  await env.control.setViewers(uid, 1234);
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('live', 30_000);
  const s1 = await p.waitUntil((s) => !s.viewersHidden && /1\.2\s?K/i.test(s.viewersText || ''),
    { timeout: 30_000, what: 'viewer count "1.2K"' });
  assert.match(s1.viewersText, /1\.2\s?K/i);

  // Refreshed while live (views every 30 s ±20 %: at most 36 s).
  await env.control.setViewers(uid, 87);
  const s2 = await p.waitUntil((s) => !s.viewersHidden && /(^|\D)87(\D|$)/.test(s.viewersText || ''),
    { timeout: 50_000, what: 'viewer count refreshed to "87"' });
  assert.doesNotMatch(s2.viewersText, /1\.2/);
  assert.ok(p.requestsOf('views').length >= 2, 'views polled more than once');
  assertNoPanic(assert, p);
});

test('viewer count unknown (views fail) → hidden', { timeout: 90_000 }, async () => {
  const { uid } = await env.input('views-fail');
  await env.control.setFaults(uid, { views: 'error500' });
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('live', 30_000);
  await p.waitUntil(() => p.requestsOf('views').some((r) => r.status === 500), { timeout: 30_000, what: 'a failed views request' });
  const s = await p.snapshot();
  assert.ok(s.viewersHidden, `viewer count hidden while views fail (text: ${JSON.stringify(s.viewersText)})`);
  assert.equal(s.state, 'live', 'a views failure does not disturb playback');
  assertNoPanic(assert, p);
});
