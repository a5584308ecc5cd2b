// The console's bundle: React's JSX transformed by Vite's own transformer (oxc); served by the
// server under /console from console/dist. The map shapes are emitted as one static asset that the
// evidence map fetches when it first draws (not part of the first load).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { mapShapes } from './shapes.mts';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic' } },
  plugins: [mapShapes()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The server's index page sets no inline script; nothing else in the bundle needs a budget warning.
    chunkSizeWarningLimit: 600,
  },
});
