// Vite for the React example. The player package is linked from
// ../../pkg/jitsi-live-player (file: dependency): Vite follows the link and
// copies what index.js points at with `new URL(..., import.meta.url)` (the
// .wasm and hls.min.js) into dist/assets.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
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
