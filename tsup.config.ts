// Build: three entries (main, ./redis, ./testing), ESM + CJS, declarations for each condition; `?raw` imports inlined as text.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', redis: 'src/redis.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node22', // the oldest supported Node.js line (engines, .ci/node-versions)
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  // import.meta.url in the CJS build (ioredis-peer.ts loads ioredis with createRequire).
  shims: true,
  external: ['express', '@aws-sdk/client-sesv2', 'ioredis', '@opentelemetry/api'],
  esbuildPlugins: [
    {
      // The dashboard's script and stylesheet are real files in src/dashboard/assets, imported as `…?raw` (as Vite
      // does in tests) and inlined as strings, so the package serves them with no file read at run time.
      name: 'raw-text',
      setup(build) {
        // The path keeps its `?raw` so that tsup's own CSS loader (which matches /\.css$/ in every namespace) skips it.
        build.onResolve({ filter: /\?raw$/ }, (args) => ({
          path: resolve(args.resolveDir, args.path),
          namespace: 'raw-text',
        }));
        build.onLoad({ filter: /\?raw$/, namespace: 'raw-text' }, async (args) => ({
          contents: await readFile(args.path.slice(0, -'?raw'.length), 'utf8'),
          loader: 'text',
        }));
      },
    },
  ],
});
