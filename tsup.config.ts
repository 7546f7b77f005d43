// Build: two entries (main and ./redis), ESM + CJS, declarations for each condition.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', redis: 'src/redis.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node22', // the oldest supported Node.js line (engines, .ci/node-versions)
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  // import.meta.url in the CJS build (ioredis-peer.ts loads ioredis with createRequire).
  shims: true,
  external: ['express', '@aws-sdk/client-sesv2', 'ioredis'],
});
