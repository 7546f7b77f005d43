// A SIGKILLed worker's task is handed to another worker within 30 s, and is not failed by the crash.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bullmqQueue } from '../../src/redis.js';
import type { ChunkTask } from '../../src/types.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix('crash');

describe.skipIf(!REDIS_URL)('bullmqQueue after a worker crash', () => {
  afterAll(() => deleteKeys(prefix));

  it('redelivers the task of a SIGKILLed worker to another one within 30 s', async () => {
    const name = `q-${randomUUID()}`;
    const child = fork(
      fileURLToPath(new URL('./crash-worker.ts', import.meta.url)),
      [REDIS_URL as string, name, prefix],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const messages: Record<string, unknown>[] = [];
    child.on('message', (m) => messages.push(m as Record<string, unknown>));
    const until = async (check: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const producer = bullmqQueue({ connection: REDIS_URL as string, name, prefix });
    const survivor = bullmqQueue({ connection: REDIS_URL as string, name, prefix });
    try {
      await until(() => messages.some((m) => m.ready), 20_000);
      const task: ChunkTask = { jobId: 'crash-job', chunk: 7, entries: [] };
      await producer.enqueue([task]);
      await until(() => messages.some((m) => m.started === 7), 10_000);
      child.kill('SIGKILL');
      const killedAt = Date.now();
      const seen: ChunkTask[] = [];
      await survivor.start(async (t) => void seen.push(t), { concurrency: 1 });
      await until(() => seen.length > 0, 30_000);
      expect(seen[0]).toEqual(task);
      expect(Date.now() - killedAt).toBeLessThan(30_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all([producer.close(), survivor.close()]);
    }
  }, 60_000);
});
