// Loads ioredis, the optional peer of the ./redis entry, or fails saying which package to install.
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

export const MISSING_IOREDIS =
  'express-bulk-email/redis needs the optional peer dependency ioredis (version 5 or 6): run `npm install ioredis`';

/**
 * `require`d rather than imported so that both builds (ESM and CJS) can catch a missing package and say what to do,
 * instead of Node's bare "Cannot find module". `load` is a seam for the test.
 */
export function loadIoredis(load: (id: string) => unknown = createRequire(import.meta.url)): typeof IORedis {
  try {
    return load('ioredis') as typeof IORedis;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && /ioredis/.test(e.message)) {
      throw new Error(MISSING_IOREDIS, { cause: err });
    }
    throw err;
  }
}
