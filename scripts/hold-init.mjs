#!/usr/bin/env node
// Makes the watch page's wasm start when the page's loader says so: trunk's
// module script (`const wasm = await init(...)`) first awaits
// `window.__jlpGo`, which index.html's loader resolves once what it started
// has got somewhere (at once when it starts nothing, at the latest after
// 1.6 s). The wasm's download is not held (trunk preloads it), only its
// compile and instantiation, which would otherwise compete with hls.js and
// the media pipeline for the main thread and the cores before the first
// frame. Fails the build when trunk's script is not what it expects.
//
//   node scripts/hold-init.mjs dist/index.html
import { readFileSync, writeFileSync } from 'node:fs';

const page = process.argv[2];
if (!page) {
  console.error('usage: hold-init.mjs <page.html>');
  process.exit(2);
}
const html = readFileSync(page, 'utf8');
const INIT = /^(\s*)const wasm = await init\(/m;
if (html.includes('await window.__jlpGo;')) process.exit(0);
if (!INIT.test(html) || !html.includes('w.__jlpGo = new Promise')) {
  console.error(`hold-init: ${page} has no trunk init line or no loader defining __jlpGo`);
  process.exit(1);
}
writeFileSync(page, html.replace(INIT, '$1await window.__jlpGo;\n$1const wasm = await init('));
console.log(`hold-init: ${page}: the wasm starts when the loader says so`);
