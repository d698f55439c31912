#!/usr/bin/env node
// Makes the watch page's wasm wait for the page's loader: index.html's
// loader resolves `window.__jlpGo` once what it started has got somewhere
// (at once when it starts nothing, at the latest after 1.6 s). Until then
// nothing of the player is fetched, compiled or run:
//   - trunk's module script awaits `__jlpGo` first, then has the loader's
//     `__jlpFetchPlayer` import the glue (a dynamic `import()` instead of
//     trunk's static one, which fetched and compiled it with the page) and
//     instantiate the wasm, trying again while a download fails;
//   - trunk's `modulepreload` (glue, snippets) and `preload` (wasm) links go.
// Those downloads started with the page and competed with the manifest and
// the first segments for the network and the two cores: without them the
// native first frame came 76 ms sooner (347 vs 423 ms, 72 interleaved cold
// loads each; README, Benchmarks). The player mounts after the first frame
// anyway, so what it costs is the mount ~0.2 s later on loopback.
// The files are our own origin's, so the glue's `integrity` goes with its
// link. Fails the build when trunk's script is not what it expects.
//
//   node scripts/hold-init.mjs dist/index.html
import { readFileSync, writeFileSync } from 'node:fs';

const page = process.argv[2];
if (!page) {
  console.error('usage: hold-init.mjs <page.html>');
  process.exit(2);
}
let html = readFileSync(page, 'utf8');
if (html.includes('await window.__jlpGo;')) process.exit(0);
const IMPORT = /^(\s*)import init, \* as bindings from '([^']+)';\n/m;
const INIT = /^(\s*)const wasm = await init\(\{ module_or_path: '([^']+)' \}\);\n/m;
if (!IMPORT.test(html) || !INIT.test(html) || !html.includes('w.__jlpGo = new Promise') || !html.includes('w.__jlpFetchPlayer = function')) {
  console.error(`hold-init: ${page} has no trunk import and init lines or no loader defining __jlpGo and __jlpFetchPlayer`);
  process.exit(1);
}
const glue = html.match(IMPORT)[2];
html = html.replace(IMPORT, '$1await window.__jlpGo;\n');
html = html.replace(INIT, (_, indent, wasm) =>
  `${indent}const { bindings, wasm } = await window.__jlpFetchPlayer((n) => import(n ? '${glue}?try=' + n : '${glue}'), '${wasm}');\n`);
const before = html.length;
html = html.replace(/<link rel="modulepreload"[^>]*>/g, '').replace(/<link rel="preload" href="[^"]*_bg\.wasm"[^>]*>/g, '');
if (html.length === before || /rel="modulepreload"|_bg\.wasm" [^>]*as="fetch"/.test(html)) {
  console.error(`hold-init: ${page}: trunk's preload links are not what this script expects`);
  process.exit(1);
}
writeFileSync(page, html);
console.log(`hold-init: ${page}: the player is fetched when the loader says so`);
