#!/usr/bin/env node
// Size budget for dist/: prints raw, gzip and brotli sizes of every shipped
// file and each budget group's gzip total against budget.json (or, with
// `maxGzipEach`, each file of the group alone); exits 1 when a group is over
// budget (or a required group has no files).
//
//   node scripts/check-budget.mjs [--dist DIR] [--budget FILE] [--json]
//
// Also imported by bench/run.mjs (measureDist) for the "bytes shipped" table.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Minimal glob: `**/` any number of directories, `*` within a path segment, `?` one char.
export function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i += 1; }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    // The .br/.gz copies scripts/precompress.mjs writes are the same bytes.
    else if (e.isFile() && !/\.(br|gz)$/.test(e.name)) out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out.sort();
}

export function sizesOf(buf) {
  return {
    raw: buf.length,
    gzip: zlib.gzipSync(buf, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

export function loadBudget(file = path.join(REPO, 'budget.json')) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Measures every file in dist and assigns it to a budget group.
export function measureDist({ dist, budget = loadBudget() } = {}) {
  const distDir = path.resolve(REPO, dist || budget.dist || 'dist');
  if (!fs.existsSync(distDir)) throw new Error(`${distDir} does not exist: build the player first (trunk build --release --offline)`);
  const ignore = (budget.ignore || []).map(globToRegExp);
  const groups = budget.groups.map((g) => ({
    ...g,
    include: g.files.map(globToRegExp),
    excludeRe: (g.exclude || []).map(globToRegExp),
    items: [],
    raw: 0, gzip: 0, brotli: 0,
  }));
  const files = [];
  for (const rel of walk(distDir)) {
    if (ignore.some((r) => r.test(rel))) continue;
    const s = sizesOf(fs.readFileSync(path.join(distDir, rel)));
    const g = groups.find((gr) => gr.include.some((r) => r.test(rel)) && !gr.excludeRe.some((r) => r.test(rel)));
    const f = { file: rel, ...s, group: g ? g.name : null };
    files.push(f);
    if (g) { g.items.push(f); g.raw += s.raw; g.gzip += s.gzip; g.brotli += s.brotli; }
  }
  const result = groups.map((g) => {
    const problems = [];
    if (g.required && g.items.length === 0) problems.push('no files matched');
    if (g.maxGzip != null && g.gzip > g.maxGzip) problems.push(`gzip ${fmt(g.gzip)} > ${fmt(g.maxGzip)}`);
    if (g.maxRaw != null && g.raw > g.maxRaw) problems.push(`raw ${fmt(g.raw)} > ${fmt(g.maxRaw)}`);
    // For files a viewer downloads one of (a language catalogue): each alone.
    for (const f of g.maxGzipEach != null ? g.items : []) {
      if (f.gzip > g.maxGzipEach) problems.push(`${f.file}: gzip ${fmt(f.gzip)} > ${fmt(g.maxGzipEach)} each`);
    }
    return {
      name: g.name, files: g.items.map((i) => i.file), raw: g.raw, gzip: g.gzip, brotli: g.brotli,
      maxGzip: g.maxGzip ?? null, maxGzipEach: g.maxGzipEach ?? null, maxRaw: g.maxRaw ?? null, ok: problems.length === 0, problems,
      target: g.target ?? null,
    };
  });
  return { dist: distDir, files, groups: result, ok: result.every((g) => g.ok) };
}

export function fmt(n) {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}

export function markdown(m) {
  const lines = [];
  lines.push('| file | group | raw | gzip | brotli |', '| --- | --- | ---: | ---: | ---: |');
  for (const f of m.files) lines.push(`| ${f.file} | ${f.group ?? '(no budget)'} | ${fmt(f.raw)} | ${fmt(f.gzip)} | ${fmt(f.brotli)} |`);
  lines.push('', '| budget group | files | raw | gzip | budget (gzip) | |', '| --- | ---: | ---: | ---: | ---: | --- |');
  for (const g of m.groups) {
    // A target below the enforced ceiling is reported, not enforced.
    const target = g.target != null && g.gzip > g.target ? ` (target ${fmt(g.target)} missed by ${fmt(g.gzip - g.target)})` : '';
    lines.push(`| ${g.name} | ${g.files.length} | ${fmt(g.raw)} | ${fmt(g.gzip)} | ${g.maxGzip != null ? fmt(g.maxGzip) : g.maxGzipEach != null ? `${fmt(g.maxGzipEach)} each` : '—'} | ${g.ok ? 'ok' : 'OVER: ' + g.problems.join('; ')}${target} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  try {
    const budget = loadBudget(opt('--budget') ? path.resolve(opt('--budget')) : undefined);
    const m = measureDist({ dist: opt('--dist'), budget });
    if (args.includes('--json')) console.log(JSON.stringify(m, null, 2));
    else {
      console.log(`Size budget for ${path.relative(process.cwd(), m.dist) || '.'} (gzip -9, KB = 1024 B)\n`);
      console.log(markdown(m));
      console.log(`\n${m.ok ? 'budget: ok' : 'budget: OVER'}`);
    }
    process.exit(m.ok ? 0 : 1);
  } catch (e) {
    console.error(`check-budget: ${e.message}`);
    process.exit(1);
  }
}
