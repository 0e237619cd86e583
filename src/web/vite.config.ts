// Builds the web UI (Preact + TypeScript) into dist/web; the server serves it at / and /ui/ (src/server/routes-ui.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Every asset under /ui/, so the UI never shadows an API path (/translate, /languages, /detect, /embed, …).
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Nothing inlined as data: URLs or inline scripts, so the Content-Security-Policy can stay 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 400,
  },
});
