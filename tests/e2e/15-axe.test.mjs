// Accessibility checked by a tool: axe-core (WCAG 2.x A/AA and best
// practices) on every state the viewer can meet (waiting, starting, live,
// ended, replay, error, the configuration card), each at 360 and 1440 px,
// light and dark: zero violations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor } from './harness.mjs';

const env = useEnv({ name: 'axe', server: { args: ['--recording-ready-seconds', '4'] }, backend: true });

const LOOKS = [
  { width: 360, height: 740, colorScheme: 'light' },
  { width: 360, height: 740, colorScheme: 'dark' },
  { width: 1440, height: 900, colorScheme: 'light' },
  { width: 1440, height: 900, colorScheme: 'dark' },
];

// Every button a viewer can see, measured: at least 24×24 px (WCAG 2.5.8).
const TARGETS = `[...document.querySelectorAll('.jlp button')]
  .filter((b) => b.checkVisibility({ checkVisibilityCSS: true }))
  .map((b) => { const r = b.getBoundingClientRect(); return { what: b.dataset.action + (b.getAttribute('aria-label') ? ' (' + b.getAttribute('aria-label') + ')' : ''), w: r.width, h: r.height }; })`;

const checked = [];
const found = [];
let buttons = 0;

// Runs axe in each look; the state must still be `state` after the run.
async function check(p, state) {
  for (const look of LOOKS) {
    await p.page.setViewportSize({ width: look.width, height: look.height });
    await p.page.emulateMedia({ colorScheme: look.colorScheme });
    const violations = await p.axe();
    const s = await p.snapshot();
    const targets = await p.peek(TARGETS);
    for (const t of targets) {
      if (t.w < 24 || t.h < 24) found.push(`${state} at ${look.width} px: ${t.what} is ${t.w.toFixed(0)}×${t.h.toFixed(0)} px, under 24×24`);
    }
    buttons += targets.length;
    const where = `${state} at ${look.width} px, ${look.colorScheme}`;
    assert.equal(s.state, state === 'config card' ? 'error' : state, `${where}: still in the state while axe ran`);
    checked.push(where);
    for (const v of violations) found.push(`${where}: ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.join('\n    ')}`);
  }
}

test('axe: zero violations in every state, 360/1440 px, light/dark', { timeout: 300_000 }, async () => {
  const { uid } = await env.input('axe');
  const recordings = `${env.backend.url}/api/inputs/${uid}/recordings`;
  const p = await env.open({ query: { input: uid, recordings }, id: uid, name: 'axe' });

  // A first broadcast, so that waiting shows a recordings list.
  await env.control.startBroadcast(uid);
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  // The control bar shows on hover: check it as a pointer user sees it.
  await p.page.hover('.jlp-stage');
  await check(p, 'live');
  await env.control.stop(uid, 'clean');
  await p.waitForState('ended', 45_000);
  await check(p, 'ended');
  await p.waitForState('waiting', 30_000);
  await waitFor(() => p.peek(`!!document.querySelector('button[data-action="play-recording"]')`), { timeout: 45_000, what: 'the recording listed' });
  await check(p, 'waiting');

  await p.page.click('button[data-action="play-recording"]');
  await p.waitForState('replay', 30_000);
  await check(p, 'replay');
  await p.page.click('button[data-action="leave-replay"]');
  await p.waitForState('waiting', 15_000);

  await env.control.setFaults(uid, { manifest404Seconds: 30 });
  await env.control.start(uid, {});
  await p.waitForState('starting', 30_000);
  await check(p, 'starting');
  await env.control.stop(uid, 'clean').catch(() => {});
  await env.control.clearFaults(uid);

  const { uid: bad } = await env.input('axe-error');
  await env.control.setFaults(bad, { lifecycle: 'error500' });
  const e = await env.open({ query: { input: bad }, id: bad, name: 'axe-error' });
  await e.waitForState('error', 30_000);
  await check(e, 'error');

  const c = await env.open({ query: {}, name: 'axe-config' });
  await c.waitForState('error', 15_000);
  await check(c, 'config card');

  console.log(`axe: ${checked.length} checks (${checked.join('; ')}), ${buttons} button sizes measured, ${found.length} violations`);
  assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
  assertNoPanic(assert, p, e, c);
});
