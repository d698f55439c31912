// Runs end-to-end spec files side by side, each in its own `node --test`,
// at most `--lanes` at once (default 2), longest first, then the `--alone`
// ones one by one with nothing beside them. Most specs wait on a live
// stream's clock (segments, polls, token expiry), not on the CPU, so two
// at a time on 2 cores take about half the wall time; a spec that measures
// start-up (14) must not share the machine.
//
//   node tests/e2e/lanes.mjs [--lanes N] [--alone NAME,...] [FILE...]
//
// Without FILEs: every tests/e2e/*.test.mjs. Each spec's output is printed
// whole when it ends (never interleaved), then its verdict and time; a
// summary closes the run. Exit status 1 if any spec failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// Started first so that the run does not end on one long spec alone: the
// longest serial times on 2 cores (CI log of 2026-12-02, minutes): 80 6.5,
// 50 1.7, 31 1.7, 30 1.6, 21 1.6, 12 1.3, 20 1.1, 17 1.0; the rest ≤ 1.
const LONGEST_FIRST = ['80-private', '50-moderator', '31-angular-host', '30-react-host',
  '21-embed-element', '12-hlsjs-engine', '20-recordings-replay', '17-keyboard'];

function parseArgs(argv) {
  const o = { lanes: 2, alone: [], files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--lanes') o.lanes = Number(argv[++i]);
    else if (a === '--alone') o.alone = argv[++i].split(',').filter(Boolean);
    else o.files.push(a);
  }
  if (!Number.isInteger(o.lanes) || o.lanes < 1) throw new Error('--lanes takes a whole number ≥ 1');
  if (o.files.length === 0) {
    o.files = fs.readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join(HERE, f));
  }
  return o;
}

const specName = (file) => path.basename(file).replace(/\.test\.mjs$/, '');
const rank = (file) => {
  const i = LONGEST_FIRST.indexOf(specName(file));
  return i < 0 ? LONGEST_FIRST.length : i;
};

const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) c.kill(sig);
    process.exitCode = 130;
  });
}

function runSpec(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      children.delete(child);
      const seconds = (Date.now() - t0) / 1000;
      const ok = code === 0;
      const text = Buffer.concat(out).toString();
      // node --test's own closing counts for the file (absent if it died).
      const count = (what) => Number((text.match(new RegExp(`^# ${what} (\\d+)$`, 'm')) || [])[1] || 0);
      process.stdout.write(text);
      process.stdout.write(`# lanes: ${specName(file)} ${ok ? 'passed' : `FAILED (${signal || `exit ${code}`})`} in ${seconds.toFixed(0)} s\n\n`);
      resolve({ name: specName(file), ok, seconds, pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

async function runPool(files, lanes) {
  const queue = [...files];
  const results = [];
  const lane = async () => {
    while (queue.length > 0 && process.exitCode !== 130) results.push(await runSpec(queue.shift()));
  };
  await Promise.all(Array.from({ length: Math.min(lanes, files.length) }, lane));
  return results;
}

const opts = parseArgs(process.argv.slice(2));
const isAlone = (f) => opts.alone.includes(specName(f));
for (const name of opts.alone) {
  if (!opts.files.some((f) => specName(f) === name)) throw new Error(`--alone ${name}: no such spec file in this run`);
}
const shared = opts.files.filter((f) => !isAlone(f)).sort((a, b) => rank(a) - rank(b));
const alone = opts.files.filter(isAlone);
const t0 = Date.now();
const results = [...await runPool(shared, opts.lanes), ...await runPool(alone, 1)];
const failed = results.filter((r) => !r.ok);
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
console.log(`# lanes: ${results.length} spec files (${shared.length} on ${opts.lanes} lanes, ${alone.length} alone) in ` +
  `${((Date.now() - t0) / 60000).toFixed(1)} min; tests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped; ` +
  `${failed.length === 0 ? 'every file passed' : `failed: ${failed.map((r) => r.name).join(', ')}`}`);
if (failed.length > 0 || results.length < opts.files.length) process.exitCode = 1;
