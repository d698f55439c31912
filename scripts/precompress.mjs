#!/usr/bin/env node
// Writes a brotli (`.br`) and a gzip (`.gz`) copy beside each compressible
// file of a built dist/, which the backend serves to browsers that accept
// them (tower-http's ServeDir, `precompressed_br`/`precompressed_gzip`):
// the wasm goes out at ~40 % of its size and hls.min.js at ~25 %, with no
// compression work per request and no reverse-proxy setting to get right.
// HTML is left alone: the backend writes lifecycle's answer into the watch
// page per request (backend/src/watch_page.rs). Each copy is checked to
// decompress to the file; a copy no smaller than the file is not kept.
//
//   node scripts/precompress.mjs dist
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const COMPRESSIBLE = /\.(wasm|js|mjs|json|css|svg|map|txt)$/;
const dir = process.argv[2];
if (!dir || !fs.existsSync(dir)) {
  console.error('usage: precompress.mjs <dist dir>');
  process.exit(2);
}

function* files(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && COMPRESSIBLE.test(e.name)) yield p;
  }
}

const codings = [
  ['.br', (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } }), zlib.brotliDecompressSync],
  ['.gz', (b) => zlib.gzipSync(b, { level: 9 }), zlib.gunzipSync],
];
let raw = 0, sent = 0, n = 0;
for (const file of files(dir)) {
  const body = fs.readFileSync(file);
  for (const [ext, pack, unpack] of codings) {
    const out = file + ext;
    const packed = pack(body);
    if (!unpack(packed).equals(body)) throw new Error(`${out}: does not decompress to ${file}`);
    if (packed.length >= body.length) { fs.rmSync(out, { force: true }); continue; }
    fs.writeFileSync(out, packed);
    if (ext === '.br') { raw += body.length; sent += packed.length; n += 1; }
  }
}
console.log(`precompress: ${dir}: ${n} files, ${(raw / 1024).toFixed(1)} KB → ${(sent / 1024).toFixed(1)} KB brotli`);
