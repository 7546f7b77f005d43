// redisQueue against the shared Queue and pacing contracts (the suites the in-process queue passes), plus what only it does.
import { afterAll, describe, expect, it } from 'vitest';
import * as vitest from 'vitest';
import { redisQueue } from '../../src/redis.js';
import { describePacingContract, describeQueueContract } from '../../src/testing/index.js';
import { deleteQueueKeys } from './queue-helpers.js';
import { REDIS_URL, uniquePrefix } from './redis-helpers.js';

const url = REDIS_URL as string;
const base = uniquePrefix('contract');
const prefixes = new Set<string>();

describe.skipIf(!REDIS_URL)('redisQueue', () => {
  afterAll(async () => {
    for (const p of prefixes) await deleteQueueKeys(url, p);
  });

  // Queues made with the same name share their work (one prefix); every test gets its own.
  describeQueueContract(vitest, 'redis', (name) => {
    const prefix = `${base}-${name}`;
    prefixes.add(prefix);
    return redisQueue({ connection: url, prefix, retryDelayMs: 100 });
  });
  describePacingContract(vitest, 'redis', (name) => {
    const prefix = `${base}-${name}`;
    prefixes.add(prefix);
    return redisQueue({ connection: url, prefix });
  });

  it('is distributed', async () => {
    const queue = redisQueue({ connection: url, prefix: base });
    expect(queue.distributed).toBe(true);
    await queue.close();
  });
});

describe('redisQueue when Redis is unreachable', () => {
  it('fails add and start fast with SERVICE_UNAVAILABLE, and closes', async () => {
    const queue = redisQueue({ connection: { host: '127.0.0.1', port: 1 }, timeoutMs: 2000 });
    try {
      let started = Date.now();
      await expect(queue.add({ jobId: 'j', principalId: 'p', tasks: [] })).resolves.toBeUndefined();
      await expect(queue.stats()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(2500);
      started = Date.now();
      await expect(queue.start(async () => ({ kind: 'done' }), { concurrency: 1 })).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await queue.close();
    }
  });
});
