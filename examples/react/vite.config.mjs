// Vite for the React example. The player package is linked from
// ../../pkg/jitsi-live-player (file: dependency): Vite follows the link and
// copies what index.js points at with `new URL(..., import.meta.url)` (the
// .wasm and hls.min.js) into dist/assets. The language catalogues are a
// folder the player fetches one file of (`new URL('./i18n/', import.meta.url)`,
// which Vite leaves to run time): copied beside the bundle here. (Written
// out file by file, Vite would inline every catalogue into the bundle as
// data: URLs, under its 4 KB assetsInlineLimit: every viewer would download
// all of them.)
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const catalogues = {
  name: 'jitsi-live-player-catalogues',
  apply: 'build',
  writeBundle(options) {
    const from = path.resolve('node_modules/jitsi-live-player/i18n');
    if (fs.existsSync(from)) fs.cpSync(from, path.join(options.dir, 'assets/i18n'), { recursive: true });
  },
};

export default defineConfig({
  plugins: [react(), catalogues],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The wasm and hls.js are separate files, loaded on demand; the warning
    // about hls.min.js's size says nothing about the app.
    chunkSizeWarningLimit: 700,
  },
  server: { fs: { allow: ['../..'] } },
});
