// Test runner settings: every suite on Express 5, and the HTTP, e2e and example suites again on Express 4.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const express4 = dirname(require.resolve('express4/package.json'));

// Every response a suite receives from the router is checked against the OpenAPI document (see that file).
const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  setupFiles: ['test/helpers/check-responses.ts'],
  // Vitest blanks CSS imports unless told; the dashboard imports its stylesheet as text (`dashboard.css?raw`).
  css: { include: [/src\/dashboard\/assets\/.*\.css/] },
};
/**
 * Suites that measure time or load the machine: they run alone, after the others (project "timing"), and in CI once,
 * on the newest Node line, while every other suite runs on each line (test/run.mjs). New such suites go here.
 */
export const TIMING = [
  'test/integ/redis-fair-share.test.ts',
  'test/integ/redis-faults.test.ts',
  'test/integ/redis-queue-outage.test.ts',
  'test/integ/redis-queue-workers.test.ts',
  'test/load/**/*.test.ts',
];
// Examples import the package by name, as a user would; tests run them against the sources.
const self = [
  { find: /^express-bulk-email\/testing$/, replacement: new URL('./src/testing/index.ts', import.meta.url).pathname },
  { find: /^express-bulk-email\/redis$/, replacement: new URL('./src/redis.ts', import.meta.url).pathname },
  { find: /^express-bulk-email$/, replacement: new URL('./src/index.ts', import.meta.url).pathname },
];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        resolve: { alias: self },
        test: {
          ...shared,
          name: 'express5',
          include: ['test/**/*.test.ts'],
          exclude: TIMING,
          env: { EXPRESS_MAJOR: '5' },
        },
      },
      {
        resolve: { alias: self },
        test: { ...shared, name: 'timing', include: TIMING, fileParallelism: false, env: { EXPRESS_MAJOR: '5' } },
      },
      {
        resolve: { alias: [...self, { find: /^express$/, replacement: express4 }] },
        test: {
          ...shared,
          name: 'express4',
          include: ['test/http/**/*.test.ts', 'test/examples/**/*.test.ts'],
          env: { EXPRESS_MAJOR: '4' },
        },
      },
    ],
  },
});
