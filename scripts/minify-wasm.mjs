#!/usr/bin/env node
// Shortens the names by which a wasm-bindgen module and its JS glue talk
// (`__wbg_closest_39824b16065066bc` → `$`): 194 imports and ~40 exports whose
// long names cost ~4 KB gzip of the wasm the viewer waits for. wasm-opt renames
// them and prints the map; this rewrites the glue with the same map and, given
// pages, the Subresource Integrity hashes trunk wrote for both files.
//
// Then it minifies the glue and the wasm-bindgen snippets beside it
// (`snippets/**/*.js`) with esbuild, which wasm-bindgen and trunk leave as
// written: 7,608 → 5,073 B gzip for the watch page's glue, 1,144 → 782 B
// for its hls.js loader.
//
//   node scripts/minify-wasm.mjs <glue.js> <module_bg.wasm> [page.html ...]
//
// Idempotent: a glue already minified (it starts with MARK) is left alone,
// so build.sh may run it on a cached trunk output.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { transform } from "esbuild";

const gzipSize = (b) => execFileSync("gzip", ["-9c"], { input: b }).length;

const MARK = "/* minified: scripts/minify-wasm.mjs */\n";
// Whitespace, comments and local names; property names stay, since the
// import object's keys are the wasm's import names. es2020: what the
// player's browsers run (the glue already needs ES modules and BigInt).
const minify = async (code) =>
  MARK + (await transform(code, { minify: true, format: "esm", target: "es2020", legalComments: "none", charset: "utf8" })).code;

const [glue, wasmPath, ...pages] = process.argv.slice(2);
if (!glue || !wasmPath) {
  console.error("usage: minify-wasm.mjs <glue.js> <module_bg.wasm> [page.html ...]");
  process.exit(2);
}

let js = readFileSync(glue, "utf8");
if (js.startsWith(MARK)) {
  console.log(`minify-wasm: ${basename(wasmPath)} already minified`);
  process.exit(0);
}
const moduleKey = /\n {8}"(\.\/[\w.-]+_bg\.js)": import0,\n/.exec(js);
if (!moduleKey) {
  throw new Error("minify-wasm: the glue's import object was not found (wasm-bindgen changed its output?)");
}

const dir = mkdtempSync(join(tmpdir(), "minify-wasm-"));
let map, wasm;
try {
  const out = join(dir, "out.wasm");
  // Only renames: the module was optimised already. The features are the
  // ones the build enables (index.html), or wasm-opt refuses the module.
  const printed = execFileSync(
    "wasm-opt",
    [
      wasmPath,
      "--enable-bulk-memory",
      "--enable-nontrapping-float-to-int",
      "--enable-reference-types",
      "--enable-sign-ext",
      "--enable-mutable-globals",
      "--enable-multivalue",
      "--minify-imports-and-exports-and-modules",
      "-o",
      out,
    ],
    { encoding: "utf8", maxBuffer: 16 << 20 },
  );
  map = JSON.parse(printed.slice(printed.indexOf("{")));
  wasm = readFileSync(out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Every import comes from the one module the glue provides; with
// `-and-modules` wasm-opt names it "a".
const modules = new Set(map.imports.map(([m]) => m));
if (modules.size !== 1 || !modules.has(moduleKey[1])) {
  throw new Error(`minify-wasm: imports from ${[...modules].join(", ")}, expected only ${moduleKey[1]}`);
}
js = js.replace(moduleKey[0], '\n        "a": import0,\n');

const esc = (s) => s.replace(/[$]/g, "\\$");
for (const [, name, to] of map.imports) {
  // A key of the import object: `        __wbg_x_123: function(`.
  const key = new RegExp(`(\\n {8})${esc(name)}(: function\\()`, "g");
  let n = 0;
  js = js.replace(key, (_, before, after) => (n++, before + to + after));
  if (n !== 1) throw new Error(`minify-wasm: import ${name} found ${n} times in the glue`);
}
for (const [name, to] of map.exports) {
  // Uses of an export: `wasm.__wbindgen_malloc`. Exports the glue never
  // calls (wasm-bindgen keeps a few for other targets) are fine to miss.
  const re = new RegExp(`(\\bwasm\\.)${esc(name)}(?![\\w$])`, "g");
  js = js.replace(re, (_, p) => p + to);
}
// Nothing may still refer to an old name, or the page would fail at
// instantiation (missing import) or at first call (undefined export).
for (const [, name] of map.imports) {
  if (js.includes(name)) throw new Error(`minify-wasm: import ${name} is still in the glue`);
}
for (const [name] of map.exports) {
  if (new RegExp(`\\bwasm\\.${esc(name)}(?![\\w$])`).test(js)) {
    throw new Error(`minify-wasm: export ${name} is still used by its old name`);
  }
}

const before = gzipSize(js);
js = await minify(js);
const snippets = join(dirname(glue), "snippets");
let snippetBytes = [0, 0];
if (existsSync(snippets)) {
  for (const f of readdirSync(snippets, { recursive: true })) {
    if (!String(f).endsWith(".js")) continue;
    const file = join(snippets, String(f));
    const code = readFileSync(file, "utf8");
    if (code.startsWith(MARK)) continue;
    const small = await minify(code);
    snippetBytes = [snippetBytes[0] + gzipSize(code), snippetBytes[1] + gzipSize(small)];
    writeFileSync(file, small);
  }
}
writeFileSync(glue, js);
writeFileSync(wasmPath, wasm);

// Trunk wrote `integrity="sha384-…"` for the files it links: recompute the
// glue's (a module preload, which checks it). The wasm's preload
// (`as="fetch"`) loses it: Chromium ignores integrity there and warns on
// every load (crbug.com/981419), and the glue's own fetch of the wasm asks
// without it, so the request and its match are the same either way.
const sri = (bytes) => "sha384-" + createHash("sha384").update(bytes).digest("base64");
const linkTo = (file, rest) => new RegExp(`(<link[^>]*href="[^"]*/${basename(file).replace(/[.$]/g, "\\$&")}"[^>]*?)${rest}`, "g");
for (const page of pages) {
  let html = readFileSync(page, "utf8");
  html = html.replace(linkTo(glue, `(integrity=")[^"]*(")`), `$1$2${sri(Buffer.from(js))}$3`);
  html = html.replace(linkTo(wasmPath, ` integrity="[^"]*"`), "$1");
  if (linkTo(wasmPath, ` integrity=`).test(html)) throw new Error(`minify-wasm: ${page}: the wasm's preload still has integrity`);
  writeFileSync(page, html);
}
console.log(
  `minify-wasm: ${basename(wasmPath)} ${map.imports.length} imports, ${map.exports.length} exports renamed; wasm ${gzipSize(wasm)} B gzip;` +
    ` glue ${before} → ${gzipSize(js)} B gzip, snippets ${snippetBytes[0]} → ${snippetBytes[1]} B gzip`,
);
