#!/usr/bin/env node
// Pools the first-frame samples of several benchmark runs (copies of
// bench/output/latest.json) and prints each path's ratio with its 95 %
// interval over all their loads: one run of 9-12 loads cannot tell 1.10x
// from 1.20x here, a few pooled can.
//
//   node bench/pool.mjs run1.json run2.json ...

import fs from 'node:fs';
import { median, pathsOf, pathTable } from './stats.mjs';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node bench/pool.mjs RUN.json [RUN.json ...]   (copies of bench/output/latest.json)');
  process.exit(2);
}
const pooled = new Map();
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  for (const row of r.firstFrame ?? []) {
    const p = pooled.get(row.key) ?? { key: row.key, name: row.name, samples: [] };
    p.samples.push(...(row.samples ?? []).filter((x) => typeof x === 'number'));
    pooled.set(row.key, p);
  }
}
const rows = [...pooled.values()];
console.log(`${files.length} runs pooled\n\n| player | loads | median ms |\n| --- | ---: | ---: |`);
for (const p of rows) console.log(`| ${p.name} | ${p.samples.length} | ${p.samples.length ? Math.round(median(p.samples)) : '—'} |`);
console.log('');
// The bare native page (e) is measured only where the browser has native HLS.
console.log(pathTable(pathsOf(rows, pooled.has('e'))).join('\n'));
