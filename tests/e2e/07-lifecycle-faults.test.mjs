// The origin's lifecycle endpoint misbehaves for a while (5xx, malformed JSON,
// answers slower than the player's timeout): the page stays up with a plain
// message, does not hammer the origin, and recovers once the fault ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep, STATES } from './harness.mjs';

const env = useEnv({ name: 'lifecycle-faults' });

async function faultThenRecover(label, faults, FAULT_MS = 20_000) {
  const { uid } = await env.input(label);
  const p = await env.open({ query: { input: uid }, id: uid, name: label });
  await p.waitForState('waiting', 15_000);
  await p.setMarker();

  const tFault = Date.now();
  await env.control.setFaults(uid, faults);
  let sawMessage = false;
  const seen = new Set();
  while (Date.now() - tFault < FAULT_MS) {
    const s = await p.snapshot();
    assert.ok(s.rootPresent, `${label}: the player root is still on the page`);
    assert.ok(STATES.includes(s.state), `${label}: data-player-state is a known state (got ${JSON.stringify(s.state)})`);
    assert.ok(s.bodyText.trim().length > 0, `${label}: the page is not blank`);
    if (s.messageVisible) sawMessage = true;
    seen.add(s.state);
    await sleep(500);
  }
  assert.ok(sawMessage, `${label}: a plain message was shown while the fault lasted`);
  const during = p.requestsOf('lifecycle', tFault);
  assert.ok(during.length >= 1, `${label}: the player polled during the fault (${during.map((r) => r.status ?? r.failed ?? 'pending').join(',')})`);
  assert.ok(during.length <= Math.ceil(FAULT_MS / 2500), `${label}: backs off instead of hammering (${during.length} lifecycle requests in ${FAULT_MS / 1000} s)`);

  // Fault over, and a broadcast starts: the page must find its way to live.
  const tClear = Date.now();
  await env.control.clearFaults(uid);
  await env.control.start(uid, {});
  await p.waitForState('live', 75_000);
  await p.waitForPlaying({ timeout: 30_000 });
  assert.ok(await p.markerSurvived(), `${label}: no page reload`);
  console.log(`${label}: states during fault {${[...seen].join(',')}}, recovered to playing ${((Date.now() - tClear) / 1000).toFixed(1)} s after clearing`);
  assertNoPanic(assert, p);
}

// The three run side by side (each on its own input) to keep the run short.
describe('lifecycle faults', { concurrency: true }, () => {
  it('5xx', { timeout: 150_000 }, () => faultThenRecover('error500', { lifecycle: 'error500' }));
  it('malformed JSON', { timeout: 150_000 }, () => faultThenRecover('malformed', { lifecycle: 'malformed' }));
  // Slow: each poll takes the ~8 s timeout before it counts as failed, and the
  // player says something after the second failure, so this one lasts longer.
  it('slow answers (12 s, beyond the ~8 s timeout)', { timeout: 150_000 }, () => faultThenRecover('slow', { lifecycle: 'slow', slowMs: 12_000 }, 35_000));
});
