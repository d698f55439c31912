#!/usr/bin/env node
// Headless screenshots of the watch page in each state, at 360x800 and
// 1440x900, against the local origin:
//   docs/screenshots/<state>-<width>.png
// States: waiting, starting, live, ended, error, bad-config.
//
//   node scripts/screenshots.mjs [--out docs/screenshots] [--states live,ended]
//
// Needs target/debug/server (cargo build -p server) and dist/ (trunk build).

import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, PlayerPage, REPO, sleep } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const OUT = path.resolve(REPO, opt('--out', 'docs/screenshots'));
const ONLY = opt('--states', null);
const VIEWPORTS = [{ width: 360, height: 800 }, { width: 1440, height: 900 }];
process.env.E2E_QUIET = process.env.E2E_QUIET ?? '1';
const say = (...a) => console.error('[screenshots]', ...a);

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const server = await startServer({ name: 'screenshots' });
  const browser = await launchBrowser({ autoplay: true });
  const c = server.control;
  const shots = [];
  const problems = [];
  const open = (query, id, vp, name) => PlayerPage.open(browser, server.url, { query, id, viewport: vp, name: `shot-${name}-${vp.width}` });
  const want = (s) => !ONLY || ONLY.split(',').includes(s);

  // Waits for `state` on every page, then shoots each page as soon as it is there.
  async function shoot(name, pages, state, { timeout = 45_000, settle = 800, until } = {}) {
    await Promise.all(pages.map(async (p, i) => {
      const vp = VIEWPORTS[i];
      try {
        await p.waitForState(state, timeout);
        if (until) await p.waitUntil(until, { timeout: 20_000, what: `${name} detail` }).catch((e) => problems.push(`${name}-${vp.width}: ${e.message.split('\n')[0]}`));
      } catch (e) {
        problems.push(`${name}-${vp.width}: never reached "${state}" (${e.message.split('\n')[0]}); shot taken anyway`);
      }
      await sleep(settle);
      const file = path.join(OUT, `${name}-${vp.width}.png`);
      await p.page.screenshot({ path: file });
      const s = await p.snapshot();
      shots.push({ file: path.relative(REPO, file), state: s.state, message: s.message, viewers: s.viewersHidden ? null : s.viewersText });
      say(`${path.relative(REPO, file)}: state=${s.state} message=${JSON.stringify(s.message)}`);
    }));
  }

  try {
    if (want('bad-config')) {
      const pages = await Promise.all(VIEWPORTS.map((vp) => open('', null, vp, 'bad-config')));
      await shoot('bad-config', pages, 'error', { timeout: 10_000 });
      await Promise.all(pages.map((p) => p.close()));
    }
    if (want('waiting')) {
      const { uid } = await c.createInput({ name: 'shots-waiting' });
      const pages = await Promise.all(VIEWPORTS.map((vp) => open({ input: uid }, uid, vp, 'waiting')));
      await shoot('waiting', pages, 'waiting', { timeout: 20_000, settle: 1500 });
      await Promise.all(pages.map((p) => p.close()));
    }
    if (want('starting')) {
      const { uid } = await c.createInput({ name: 'shots-starting' });
      await c.setFaults(uid, { manifest404Seconds: 120 });
      const pages = await Promise.all(VIEWPORTS.map((vp) => open({ input: uid }, uid, vp, 'starting')));
      await Promise.all(pages.map((p) => p.waitForState('waiting', 20_000).catch(() => {})));
      await c.start(uid, {});
      await shoot('starting', pages, 'starting', { timeout: 40_000, settle: 1000 });
      await Promise.all(pages.map((p) => p.close()));
      await c.stop(uid, 'clean').catch(() => {});
    }
    if (want('live') || want('ended')) {
      const { uid } = await c.createInput({ name: 'shots-live' });
      await c.setViewers(uid, 1234);
      await c.startBroadcast(uid);
      const pages = await Promise.all(VIEWPORTS.map((vp) => open({ input: uid }, uid, vp, 'live')));
      if (want('live')) {
        await shoot('live', pages, 'live', { timeout: 40_000, settle: 500, until: (s) => s.video && !s.video.paused && s.video.currentTime > 1 && !s.viewersHidden });
      } else {
        await Promise.all(pages.map((p) => p.waitForState('live', 40_000)));
      }
      if (want('ended')) {
        await c.stop(uid, 'clean');
        await shoot('ended', pages, 'ended', { timeout: 45_000, settle: 300 });
      }
      await Promise.all(pages.map((p) => p.close()));
    }
    if (want('error')) {
      const { uid } = await c.createInput({ name: 'shots-error' });
      await c.setFaults(uid, { lifecycle: 'error500' });
      const pages = await Promise.all(VIEWPORTS.map((vp) => open({ input: uid }, uid, vp, 'error')));
      await shoot('error', pages, 'error', { timeout: 75_000, settle: 500 });
      await Promise.all(pages.map((p) => p.close()));
    }
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
  shots.sort((a, b) => a.file.localeCompare(b.file));
  console.log(JSON.stringify({ shots, problems }, null, 2));
  if (problems.length) {
    say(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => { console.error(`[screenshots] failed: ${e.stack || e.message}`); process.exit(1); });
