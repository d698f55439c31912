// Autoplay with sound refused (Chromium's default policy, no user gesture):
// the player falls back to muted playback and shows an unmute control that
// works. This file's browser runs WITHOUT --autoplay-policy=no-user-gesture-required,
// and the page is only read through CDP without a user gesture until the click.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic } from './harness.mjs';

const env = useEnv({ name: 'autoplay', autoplay: false });

test('autoplay refused → plays muted with a visible unmute button; clicking it unmutes', { timeout: 90_000 }, async () => {
  const { uid } = await env.input('autoplay');
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid }, id: uid });
  await p.waitForState('live', 30_000);
  const s = await p.waitForPlaying({ timeout: 30_000 });
  assert.equal(s.video.muted, true, 'fell back to muted playback');
  const activated = await p.peek('navigator.userActivation.hasBeenActive');
  assert.equal(activated, false, 'harness sanity: the page had no user activation before the click');
  const withButton = await p.waitUntil((x) => x.buttons.unmute.visible, { timeout: 5_000, what: 'visible unmute button' });
  assert.ok(withButton.buttons.unmute.text || withButton.buttons.unmute.label, 'the unmute button has a text or an aria-label');

  await p.clickUnmute();
  const after = await p.waitUntil((x) => x.video && !x.video.muted, { timeout: 5_000, what: 'video unmuted after the click' });
  assert.ok(after.video.volume > 0, 'volume above zero');
  await p.waitForPlaying({ timeout: 10_000, advance: 1 });
  const s2 = await p.waitUntil((x) => !x.buttons.unmute.visible, { timeout: 5_000, what: 'unmute button hidden once unmuted' });
  assert.equal(s2.video.muted, false);
  assertNoPanic(assert, p);
});

test('autoplay=0 → does not start by itself', { timeout: 60_000 }, async () => {
  const { uid } = await env.input('no-autoplay');
  await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid, autoplay: '0' }, id: uid, name: 'autoplay0' });
  await p.waitForState('live', 30_000);
  await new Promise((r) => setTimeout(r, 4000));
  const s = await p.snapshot();
  assert.ok(!s.video || s.video.paused, 'video stays paused with autoplay=0');
  assertNoPanic(assert, p);
});
