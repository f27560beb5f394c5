// The playground's Vite config: `npm run playground` (dev server) and `npm run build:web`
// (static files in web/dist). The COOP/COEP headers make the page cross-origin isolated, which
// WebAssembly threads (SharedArrayBuffer) need; `vite preview` sends them too.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  server: {
    headers,
    host: '127.0.0.1',
    // the library's sources live one level up (../src)
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
  preview: { headers, host: '127.0.0.1' },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500 },
});
