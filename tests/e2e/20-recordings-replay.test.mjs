// Recordings: after a broadcast ends the viewer is told its recording comes
// shortly, it appears in the list without a reload, replays as VOD with a
// working seek, and a new broadcast is offered ("Live now"), not forced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, waitFor } from './harness.mjs';

// The list comes from the backend (as in a deployment), which reads the
// stand-in's account API.
const env = useEnv({ name: 'recordings', server: { args: ['--recording-ready-seconds', '12'] }, backend: true });

const peekList = `(() => {
  const s = document.querySelector('.jlp-recordings');
  const notes = [...document.querySelectorAll('.jlp-note')].filter((n) => !n.hidden).map((n) => n.textContent.trim());
  const items = [...document.querySelectorAll('button[data-action="play-recording"]')]
    .map((b) => ({ uid: b.dataset.uid, current: b.getAttribute('aria-current'), text: b.textContent }));
  const leave = document.querySelector('button[data-action="leave-replay"]');
  const v = document.querySelector('video');
  return { shown: !!s && !s.hidden, notes, items, leave: leave && leave.checkVisibility() ? leave.textContent.trim() : null,
    duration: v ? v.duration : null, t: v ? v.currentTime : null, controls: v ? v.controls : null };
})()`;

test('broadcast → stop → "available shortly" → listed without reload → replay plays and seeks → Live now', { timeout: 240_000 }, async () => {
  // A name with markup: it must show as text, never as HTML.
  const { uid } = await env.control.createInput({ name: '<b id="injected">Town hall</b> & Q&A' });
  const first = await env.control.startBroadcast(uid);
  const p = await env.open({ query: { input: uid, recordings: `${env.backend.url}/api/inputs/${uid}/recordings` }, id: uid });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  await p.setMarker();
  // Long enough that the recording is worth seeking in.
  await new Promise((r) => setTimeout(r, 12_000));
  let list = await p.peek(peekList);
  assert.equal(list.shown, false, 'no list while nothing was recorded yet');

  await env.control.stop(uid, 'clean');
  const stoppedAt = Date.now();
  await p.waitForState('ended', 45_000);
  const shortly = await waitFor(async () => {
    const l = await p.peek(peekList);
    return l.notes.some((n) => /available shortly/i.test(n)) && l;
  }, { timeout: 20_000, what: '"available shortly" note' });
  assert.equal(shortly.items.length, 0, 'not listed before it is ready');

  list = await waitFor(async () => {
    const l = await p.peek(peekList);
    return l.items.length === 1 && l;
  }, { timeout: 60_000, what: 'the recording listed' });
  console.log(`# recording listed ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the stop (ready after 12 s)`);
  assert.equal(list.items[0].uid, first.videoUID, 'the ended broadcast is the recording');
  assert.ok(list.notes.every((n) => !/available shortly/i.test(n)), 'the note goes once it is ready');
  assert.ok(await p.markerSurvived(), 'no page reload');
  assert.match(list.items[0].text, /<b id="injected">Town hall<\/b> & Q&A/, 'the name is shown as text');
  assert.equal(await p.peek('document.getElementById("injected")'), null, 'no element made from the name');

  // ?video=<uid> deep-links to that recording.
  const deep = await env.open({ query: { video: first.videoUID }, id: first.videoUID, name: 'deep-link' });
  await deep.waitForState('replay', 20_000);
  await deep.waitForPlaying({ timeout: 20_000 });
  assert.ok(Number.isFinite((await deep.peek(peekList)).duration), 'plays as VOD');
  await deep.close();

  await p.page.click('button[data-action="play-recording"]');
  await p.waitForState('replay', 15_000);
  await p.waitForPlaying({ timeout: 20_000 });
  list = await p.peek(peekList);
  assert.ok(list.duration > 8 && Number.isFinite(list.duration), `VOD duration known (${list.duration})`);
  assert.equal(list.controls, true, 'native controls with a seek bar while replaying');
  assert.equal(list.items[0].current, 'true', 'the chosen recording is marked');
  assert.match(list.leave, /back to waiting/i);
  await p.page.evaluate(() => { document.querySelector('video').currentTime = 6; });
  await waitFor(async () => (await p.peek(peekList)).t >= 6, { timeout: 10_000, what: 'seek to 6 s' });

  // A new broadcast while replaying: offered, not forced.
  await env.control.startBroadcast(uid);
  const offered = await waitFor(async () => {
    const l = await p.peek(peekList);
    return l.leave && /live now/i.test(l.leave) && l;
  }, { timeout: 45_000, what: '"Live now" offered' });
  assert.equal(await p.state(), 'replay', 'still replaying');
  assert.ok(offered.t >= 6, 'the replay was not interrupted');

  await p.page.click('button[data-action="leave-replay"]');
  await p.waitForState('live', 45_000);
  await p.waitForPlaying({ timeout: 30_000 });
  assert.ok(await p.markerSurvived(), 'no page reload');
  assertNoPanic(assert, p);
});
