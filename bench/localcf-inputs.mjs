#!/usr/bin/env node
// Benchmark (a script, not a test): lifecycle latency of the stand-in with
// many inputs while a client keeps listing them (issue 15 #10), and how
// far one client can inflate a viewer count.
//   node bench/localcf-inputs.mjs [--bin localcf/target/debug/localcf] [--inputs 3000] [--samples 300] [--listers 2] [--no-caps 1]
// (--no-caps: for a binary without --max-inputs)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const bin = args.bin ?? 'localcf/target/debug/localcf';
const INPUTS = Number(args.inputs ?? 3000);
const SAMPLES = Number(args.samples ?? 300);
const LISTERS = Number(args.listers ?? 2);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-inputs-'));
const extra = args['no-caps'] ? [] : ['--max-inputs', String(INPUTS + 10)];
const proc = spawn(bin, ['--port', '0', '--no-rtmp', '--data-dir', dataDir, '--dist', dataDir, ...extra],
  { stdio: ['ignore', 'pipe', 'ignore'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/READY http=(\S+)/);
    if (m) resolve(m[1]);
  });
  proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const json = { 'content-type': 'application/json' };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
async function lifecycleLatencies(n, minMs = 0) {
  const out = [];
  const t0 = performance.now();
  for (let i = 0; i < n || performance.now() - t0 < minMs; i++) {
    const t = performance.now();
    const r = await fetch(`${base}/in-${i % INPUTS}/lifecycle`);
    await r.arrayBuffer();
    out.push(performance.now() - t);
  }
  return out;
}
try {
  const t0 = performance.now();
  let created = 0;
  let refused = 0;
  const worker = async (w) => {
    for (let i = w; i < INPUTS; i += 8) {
      const r = await fetch(`${base}/control/inputs`, { method: 'POST', headers: json, body: JSON.stringify({ uid: `in-${i}` }) });
      await r.arrayBuffer();
      if (r.status === 201) created++; else refused++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  const createMs = performance.now() - t0;
  const quiet = await lifecycleLatencies(SAMPLES);
  let listing = true;
  let lists = 0;
  let listMs = [];
  const lister = async () => {
    while (listing) {
      const t = performance.now();
      const r = await fetch(`${base}/control/inputs`);
      await r.arrayBuffer();
      listMs.push(performance.now() - t);
      lists++;
    }
  };
  const listers = Array.from({ length: LISTERS }, lister);
  const busy = await lifecycleLatencies(SAMPLES, 5000);
  listing = false;
  await Promise.all(listers);
  // One client, 3000 distinct ?viewer= ids against one input.
  const tv = performance.now();
  let last = 0;
  for (let i = 0; i < 3000; i++) {
    const r = await fetch(`${base}/in-0/views?viewer=v${i}`);
    last = (await r.json()).liveViewers;
  }
  const viewsMs = performance.now() - tv;
  const f = (x) => x.toFixed(1);
  console.log(`inputs: ${created} created (${refused} refused) in ${f(createMs)} ms`);
  console.log(`lifecycle p50/p95 quiet: ${f(pct(quiet, 0.5))}/${f(pct(quiet, 0.95))} ms`);
  console.log(`lifecycle p50/p95 while listing (5 s, ${busy.length} requests): ${f(pct(busy, 0.5))}/${f(pct(busy, 0.95))} ms (${LISTERS} clients listing: ${lists} lists, list p50 ${f(pct(listMs, 0.5))} ms)`);
  console.log(`3000 ?viewer= ids from one client in ${f(viewsMs)} ms: liveViewers ${last}`);
} finally {
  proc.kill('SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
