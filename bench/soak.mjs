#!/usr/bin/env node
// Soak (a script, not a test): the page's memory over a long live stream, on
// each engine side by side. One local origin, one live broadcast, one
// Chromium per engine (so each page has its own renderer process to read),
// sampled every --interval seconds:
//   - renderer: RSS and PSS of the page's renderer process (/proc/<pid>/status
//     VmRSS, /proc/<pid>/smaps_rollup Pss; pids from CDP SystemInfo.getProcessInfo);
//   - browser: PSS summed over every process of that Chromium (GPU and
//     utility processes decode and play audio too);
//   - JS heap: CDP Performance.getMetrics JSHeapUsedSize / JSHeapTotalSize;
//   - video: seconds in video.buffered (and ranges), latency to the buffered
//     end, currentTime, dropped frames, the player's state.
// Prints one line per sample as it goes (stderr) and a table at the end
// (stdout); writes bench/output/soak-<time>.json.
//
// Engines: native and hlsjs are the watch page (engine=native; engine=hlsjs
// with native HLS hidden); bare-native (<video src=m3u8>) and bare-hlsjs
// (hls.js with the player's config, index.html's `jlp-hls-live` block) are the floors:
// what the browser and hls.js do without our player.
//
//   node bench/soak.mjs [--minutes 60] [--interval 30]
//                       [--engines native,hlsjs[,bare-native,bare-hlsjs]]
//                       [--size 640x360] [--preset ultrafast]
//
// Needs localcf/target/debug/localcf (scripts/build.sh builds it) and dist/ (scripts/build.sh).
// Linux only (reads /proc).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, sleep, waitFor, HIDE_NATIVE_HLS, DIST } from '../tests/e2e/harness.mjs';
import { hlsLiveConfig } from './hls-config.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const MINUTES = Number(opt('--minutes', 60));
const INTERVAL = Number(opt('--interval', 30));
const ENGINES = opt('--engines', 'native,hlsjs').split(',');
const SIZE = opt('--size', '640x360');
const PRESET = opt('--preset', 'ultrafast');

process.env.E2E_QUIET = process.env.E2E_QUIET ?? '1';
const say = (...a) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ------------------------------------------------------------ /proc readers
function procKb(pid, file, key) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}
const rssKb = (pid) => procKb(pid, 'status', 'VmRSS');
const pssKb = (pid) => procKb(pid, 'smaps_rollup', 'Pss');
const mb = (kb) => (kb == null ? null : +(kb / 1024).toFixed(1));

// What the page looks like, read without a user gesture.
const VIDEO = `(() => {
  const v = document.querySelector('video');
  const root = document.querySelector('[data-player-state]');
  const out = { state: root ? root.getAttribute('data-player-state') : null };
  if (!v) return out;
  const b = v.buffered;
  let secs = 0;
  for (let i = 0; i < b.length; i++) secs += b.end(i) - b.start(i);
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  return Object.assign(out, {
    engine: /^blob:/.test(v.currentSrc) ? 'mse' : (v.currentSrc ? 'native' : null),
    currentTime: v.currentTime, paused: v.paused, readyState: v.readyState,
    bufferedSeconds: secs, bufferedRanges: b.length,
    bufferedStart: b.length ? b.start(0) : null, bufferedEnd: b.length ? b.end(b.length - 1) : null,
    dropped: q ? q.droppedVideoFrames : null, frames: q ? q.totalVideoFrames : null,
    mediaError: v.error ? v.error.code : null,
  });
})()`;

// The bare pages and the hls.js file the player ships, on loopback.
function startStatic() {
  const roots = [['/pages/', path.join(HERE, 'pages')], ['/dist/', DIST]];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const hit = roots.find(([prefix]) => u.pathname.startsWith(prefix));
    const file = hit && path.join(hit[1], decodeURIComponent(u.pathname.slice(hit[0].length)));
    if (!file || !file.startsWith(hit[1])) { res.writeHead(404); res.end(); return; }
    fs.readFile(file, (err, buf) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript' });
      res.end(buf);
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

function pageUrl(engine, server, uid, statics) {
  const enc = encodeURIComponent;
  const manifest = `${server.url}/${uid}/manifest/video.m3u8`;
  const S = statics && `http://127.0.0.1:${statics.address().port}`;
  if (engine === 'bare-native') return `${S}/pages/bare-native.html?src=${enc(manifest)}`;
  if (engine === 'bare-hlsjs') {
    const config = hlsLiveConfig();
    const hls = fs.readdirSync(DIST).find((f) => /^hls.*\.js$/.test(f));
    return `${S}/pages/bare-hlsjs.html?src=${enc(manifest)}&hls=${enc(`${S}/dist/${hls}`)}&config=${enc(JSON.stringify(config))}`;
  }
  return `${server.url}/?input=${enc(uid)}&engine=${engine}`;
}

async function openEngine(engine, server, uid, statics) {
  // No spare renderer: the page's renderer is then the only one (we still
  // pick the largest, should Chromium start another).
  const browser = await launchBrowser({ autoplay: true, extraArgs: ['--disable-features=SpareRendererForSitePerProcess'] });
  const context = await browser.newContext({ viewport: { width: 640, height: 360 } });
  const page = await context.newPage();
  if (engine.endsWith('hlsjs')) await page.addInitScript(HIDE_NATIVE_HLS);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const bcdp = await browser.newBrowserCDPSession();
  const url = pageUrl(engine, server, uid, statics);
  await page.goto(url, { waitUntil: 'commit' });
  const peek = async (expression) => {
    const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    return r.result.value;
  };
  await waitFor(async () => { const v = await peek(VIDEO); return v.currentTime > 1 && !v.paused; },
    { timeout: 60_000, interval: 500, what: `${engine} page playing` });
  return { engine, browser, context, page, cdp, bcdp, peek, url };
}

async function sample(p, t0) {
  const [metrics, procs, video] = await Promise.all([
    p.cdp.send('Performance.getMetrics'),
    p.bcdp.send('SystemInfo.getProcessInfo'),
    p.peek(VIDEO),
  ]);
  const m = Object.fromEntries(metrics.metrics.map((x) => [x.name, x.value]));
  const list = procs.processInfo.map((x) => ({ type: x.type, pid: x.id, rss: rssKb(x.id), pss: pssKb(x.id) }));
  const renderers = list.filter((x) => x.type === 'renderer' && x.rss != null).sort((a, b) => b.rss - a.rss);
  const r = renderers[0] || {};
  const sumPss = (f) => list.filter(f).reduce((s, x) => s + (x.pss || 0), 0);
  return {
    minute: +((Date.now() - t0) / 60000).toFixed(2),
    rendererPid: r.pid, rendererRssMb: mb(r.rss), rendererPssMb: mb(r.pss), renderers: renderers.length,
    gpuPssMb: mb(sumPss((x) => x.type === 'GPU' || x.type === 'gpu')),
    browserTotalPssMb: mb(sumPss(() => true)),
    jsHeapUsedMb: +(m.JSHeapUsedSize / 1048576).toFixed(1),
    jsHeapTotalMb: +(m.JSHeapTotalSize / 1048576).toFixed(1),
    domNodes: m.Nodes,
    ...video,
    latency: video.bufferedEnd != null ? +(video.bufferedEnd - video.currentTime).toFixed(1) : null,
    bufferedSeconds: video.bufferedSeconds != null ? +video.bufferedSeconds.toFixed(1) : null,
  };
}

const line = (e, s) => `${e.padEnd(11)} ${String(s.minute).padStart(6)} min  renderer ${s.rendererRssMb} MB RSS / ${s.rendererPssMb} MB PSS  all ${s.browserTotalPssMb} MB PSS  heap ${s.jsHeapUsedMb}/${s.jsHeapTotalMb} MB  buffered ${s.bufferedSeconds} s (${s.bufferedRanges} ranges)  latency ${s.latency} s  t=${s.currentTime != null ? s.currentTime.toFixed(0) : '—'} ${s.state}/${s.engine}${s.paused ? ' PAUSED' : ''}  dropped ${s.dropped}/${s.frames}`;

async function main() {
  const result = { date: new Date().toISOString(), settings: { minutes: MINUTES, interval: INTERVAL, engines: ENGINES, size: SIZE, preset: PRESET }, samples: {} };
  let server, statics;
  const pages = [];
  try {
    say(`origin: broadcast ${SIZE} ${PRESET}`);
    server = await startServer({ name: 'soak', videoSize: SIZE, preset: PRESET });
    const { uid } = await server.control.createInput({ name: 'soak' });
    await server.control.startBroadcast(uid, { size: SIZE, preset: PRESET });
    say(`live input ${uid}; opening ${ENGINES.join(', ')}`);
    if (ENGINES.some((e) => e.startsWith('bare-'))) statics = await startStatic();
    for (const e of ENGINES) {
      pages.push(await openEngine(e, server, uid, statics));
      result.samples[e] = [];
    }
    result.chromium = pages[0].browser.version();
    const t0 = Date.now();
    const end = t0 + MINUTES * 60_000;
    for (let k = 0; ; k++) {
      for (const p of pages) {
        try {
          const s = await sample(p, t0);
          result.samples[p.engine].push(s);
          say(line(p.engine, s));
        } catch (err) {
          result.samples[p.engine].push({ minute: +((Date.now() - t0) / 60000).toFixed(2), error: String(err.message || err).split('\n')[0] });
          say(`${p.engine}: sample failed: ${err.message}`);
        }
      }
      // Partial results survive an interrupted run.
      write(result);
      const next = t0 + (k + 1) * INTERVAL * 1000;
      if (next > end) break;
      await sleep(Math.max(0, next - Date.now()));
    }
  } finally {
    for (const p of pages) await p.browser.close().catch(() => {});
    if (statics) statics.close();
    if (server) await server.stop();
  }
  const file = write(result);
  console.log(report(result));
  say(`wrote ${path.relative(process.cwd(), file)}`);
}

let outFile;
function write(result) {
  fs.mkdirSync(path.join(HERE, 'output'), { recursive: true });
  outFile = outFile || path.join(HERE, 'output', `soak-${result.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  return outFile;
}

function report(r) {
  const L = [`### Memory over a ${r.settings.minutes}-minute live stream (${r.settings.size} ${r.settings.preset}; Chromium ${r.chromium}; one browser per engine)`, ''];
  // Every 5 minutes, plus the last sample.
  const every = Math.max(1, Math.round(300 / r.settings.interval));
  L.push('| engine | minute | renderer RSS MB | renderer PSS MB | all processes PSS MB | JS heap used MB | buffered s (ranges) | latency s | state | dropped / frames |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
  for (const [e, xs] of Object.entries(r.samples)) {
    xs.forEach((s, i) => {
      if (i % every !== 0 && i !== xs.length - 1) return;
      if (s.error) { L.push(`| ${e} | ${s.minute} | error: ${s.error} | | | | | | | |`); return; }
      L.push(`| ${e} | ${s.minute.toFixed(1)} | ${s.rendererRssMb} | ${s.rendererPssMb} | ${s.browserTotalPssMb} | ${s.jsHeapUsedMb} | ${s.bufferedSeconds} (${s.bufferedRanges}) | ${s.latency} | ${s.state}/${s.engine} | ${s.dropped}/${s.frames} |`);
    });
  }
  L.push('', '| engine | renderer RSS first → max → last MB | JS heap used first → max → last MB | buffered first → max → last s |', '| --- | --- | --- | --- |');
  for (const [e, xs] of Object.entries(r.samples)) {
    const ok = xs.filter((s) => !s.error);
    if (!ok.length) continue;
    const f = (k) => `${ok[0][k]} → ${Math.max(...ok.map((s) => s[k] ?? 0))} → ${ok[ok.length - 1][k]}`;
    L.push(`| ${e} | ${f('rendererRssMb')} | ${f('jsHeapUsedMb')} | ${f('bufferedSeconds')} |`);
  }
  return L.join('\n');
}

main().catch((e) => { console.error(`[soak] failed: ${e.stack || e.message}`); process.exit(1); });
