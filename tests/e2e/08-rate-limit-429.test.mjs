// 429 with Retry-After: the player's next lifecycle poll waits at least that
// long (Cloudflare answers 429 for minutes past its rate limit; polling
// harder only prolongs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor } from './harness.mjs';

const env = useEnv({ name: 'rate-limit' });
const RETRY_AFTER = 20;

test('429 Retry-After: 20 → no lifecycle request for 20 s after it', { timeout: 120_000 }, async () => {
  const { uid } = await env.input('429');
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('waiting', 15_000);

  await env.control.setFaults(uid, { rateLimit: { retryAfter: RETRY_AFTER } });
  const first = await waitFor(() => p.requestsOf('lifecycle').find((r) => r.status === 429),
    { timeout: 15_000, what: 'a 429 lifecycle answer', describe: () => p.describe() });
  // Keep the fault until the player asks again (or clearly long after Retry-After).
  const next = await waitFor(() => p.requestsOf('lifecycle').find((r) => r.t > first.t), {
    timeout: (RETRY_AFTER + 25) * 1000, what: 'the next lifecycle request after the 429', describe: () => p.describe(),
  });
  await env.control.clearFaults(uid);

  const gap = (next.t - first.tEnd) / 1000;
  assert.ok(gap >= RETRY_AFTER - 0.5, `next lifecycle request ${gap.toFixed(1)} s after the 429 (Retry-After: ${RETRY_AFTER})`);
  assert.ok(gap <= RETRY_AFTER * 1.2 + 8, `…but not abandoned either (${gap.toFixed(1)} s)`);
  const s = await p.snapshot();
  assert.ok(s.rootPresent && s.state, 'page still up during the rate limit');

  // Recovers after the limit lifts: back to waiting with 200 answers.
  const tClear = Date.now();
  await p.waitUntil((snap) => snap.state === 'waiting' && p.requestsOf('lifecycle', tClear).some((r) => r.status === 200),
    { timeout: 60_000, what: 'waiting with a successful lifecycle poll after the limit lifted' });
  console.log(`gap after 429 = ${gap.toFixed(1)} s`);
  assertNoPanic(assert, p);
});
