// Every `::part()` name the README promises hosts, styled from a host
// stylesheet outside the shadow root: each must reach an element of the
// player, in a live state with recordings listed and in the config card.
// The names are read from the README, so a part the README names and the
// player lacks (or one no longer reachable from outside) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useEnv, waitFor, REPO } from './harness.mjs';

const PKG = path.join(REPO, 'pkg/jitsi-live-player');
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-parts-host-'));
fs.copyFileSync(path.join(REPO, 'tests/embed-host/index.html'), path.join(site, 'index.html'));
fs.cpSync(PKG, path.join(site, 'jitsi-live-player'), { recursive: true });

const env = useEnv({
  name: 'parts',
  server: { dist: site, args: ['--recording-ready-seconds', '2'] },
  backend: true,
});

// The README's sentence "`::part()` names: `player`, `stage`, ... ."
function readmeParts() {
  const text = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const at = text.indexOf('`::part()` names:');
  assert.ok(at >= 0, 'the README lists the ::part() names');
  const sentence = text.slice(at + '`::part()` names:'.length, text.indexOf('.\n', at));
  const names = [...sentence.matchAll(/`([a-z][a-z-]*)`/g)].map((m) => m[1]);
  assert.ok(names.length >= 20, `parsed ${names.length} part names`);
  return [...new Set(names)];
}

// One custom property per part, set only through ::part() from the host.
const hostSheet = (names) =>
  names.map((n) => `jitsi-live-player::part(${n}) { --host-part-${n}: set; }`).join('\n');

// For each name: how many elements carry it, and how many of those the
// host's rule reached. (Custom properties inherit, but no part nests in one
// of its own name, so an element can only have its property from its rule.)
const probe = (id, names) => `(() => {
  const root = document.getElementById(${JSON.stringify(id)}).shadowRoot;
  const out = {};
  for (const n of ${JSON.stringify(names)}) {
    const els = [...root.querySelectorAll('[part]')].filter((e) => e.part.contains(n));
    out[n] = { found: els.length,
      styled: els.filter((e) => getComputedStyle(e).getPropertyValue('--host-part-' + n).trim() === 'set').length };
  }
  return out;
})()`;

test('every ::part() name in the README styles the player from a host stylesheet', { timeout: 150_000 }, async () => {
  const names = readmeParts();
  const { uid } = await env.control.createInput({ name: 'Parts' });
  // One finished broadcast (a recording to list), then a live one.
  await env.control.startBroadcast(uid);
  await env.control.stop(uid, 'clean');
  const recordings = `${env.backend.url}/api/inputs/${uid}/recordings`;
  await waitFor(async () => {
    const r = await fetch(recordings);
    return r.ok && (await r.json()).recordings?.length > 0;
  }, { timeout: 40_000, what: 'the recording listed by the backend' });
  await env.control.startBroadcast(uid);

  const p = await env.open({ query: '', name: 'host' });
  await waitFor(() => p.peek('!!customElements.get("jitsi-live-player")'), { timeout: 15_000, what: 'the element defined' });
  await p.peek(`(() => {
    const style = document.createElement('style');
    style.textContent = ${JSON.stringify(hostSheet(names))};
    document.head.append(style);
    const live = document.createElement('jitsi-live-player');
    Object.assign(live, { id: 'live', base: ${JSON.stringify(env.server.url)}, input: ${JSON.stringify(uid)},
      recordings: ${JSON.stringify(recordings)}, muted: true, autoplay: true });
    document.getElementById('slot-a').append(live);
    // No source: the config card (title and message parts).
    const card = document.createElement('jitsi-live-player');
    card.id = 'card';
    document.getElementById('slot-b').append(card);
  })()`);
  await waitFor(async () => {
    const s = await p.peek(`(() => {
      const r = document.getElementById('live').shadowRoot;
      return { state: r.querySelector('.jlp')?.dataset.playerState, items: r.querySelectorAll('[data-action="play-recording"]').length,
        card: document.getElementById('card').shadowRoot?.querySelector('.jlp')?.dataset.playerState };
    })()`);
    return s.state === 'live' && s.items > 0 && s.card === 'error';
  }, { timeout: 60_000, what: 'one player live with its recordings listed, one showing the config card' });

  const live = await p.peek(probe('live', names));
  const card = await p.peek(probe('card', names));
  const missing = [];
  for (const n of names) {
    const found = live[n].found + card[n].found;
    const styled = live[n].styled + card[n].styled;
    if (found === 0) missing.push(`${n}: no element has it`);
    else if (styled !== found) missing.push(`${n}: the host's rule reached ${styled} of ${found}`);
  }
  assert.deepEqual(missing, [], `parts the README names: ${names.join(', ')}`);
});
