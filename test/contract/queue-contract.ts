// describeQueueContract(): the behaviour every Queue must show (in-process, BullMQ, or an app's own).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkTask, LegacyQueue as Queue } from '../../src/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

function tasks(count: number, tag = randomUUID()): ChunkTask[] {
  return Array.from({ length: count }, (_, chunk) => ({
    jobId: `job-${tag}`,
    chunk,
    entries: [{ index: chunk * 50, entry: { Destination: { ToAddresses: [`r${chunk}@example.com`] } } }],
  }));
}

/** `makeQueue(name)`: queues made with the same name share their tasks when the queue is distributed. */
export function describeQueueContract(name: string, makeQueue: (name: string) => Queue | Promise<Queue>): void {
  describe(`Queue contract: ${name}`, () => {
    const open: Queue[] = [];
    const make = async (queueName: string) => {
      const queue = await makeQueue(queueName);
      open.push(queue);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('delivers every task once, enqueued before or after start, with its entries', async () => {
      const queue = await make(`q-${randomUUID()}`);
      expect(typeof queue.distributed).toBe('boolean');
      const sent = tasks(6);
      const seen: ChunkTask[] = [];
      await queue.enqueue(sent.slice(0, 3));
      await queue.start(async (task) => void seen.push(task), { concurrency: 2 });
      await queue.enqueue(sent.slice(3));
      await until(() => seen.length === 6);
      await sleep(200);
      expect(seen).toHaveLength(6);
      expect([...seen].sort((a, b) => a.chunk - b.chunk)).toEqual(sent);
    });

    it('holds a delayed task back for its delay', async () => {
      const queue = await make(`q-${randomUUID()}`);
      const seenAt: number[] = [];
      await queue.start(async () => void seenAt.push(Date.now()), { concurrency: 1 });
      const start = Date.now();
      await queue.enqueue(tasks(1), { delayMs: 600 });
      await sleep(300);
      expect(seenAt).toHaveLength(0);
      await until(() => seenAt.length === 1);
      expect(seenAt[0] - start).toBeGreaterThanOrEqual(550);
    });

    it('runs at most `concurrency` tasks at once, and uses them all', async () => {
      const queue = await make(`q-${randomUUID()}`);
      let active = 0;
      let most = 0;
      let done = 0;
      await queue.start(
        async () => {
          active++;
          most = Math.max(most, active);
          await sleep(150);
          active--;
          done++;
        },
        { concurrency: 3 },
      );
      await queue.enqueue(tasks(12));
      await until(() => done === 12, 20_000);
      expect(most).toBe(3);
    });

    it('runs a task again when its processor throws', async () => {
      const queue = await make(`q-${randomUUID()}`);
      let runs = 0;
      await queue.start(
        async () => {
          runs++;
          if (runs === 1) throw new Error('boom');
        },
        { concurrency: 1 },
      );
      await queue.enqueue(tasks(1));
      await until(() => runs === 2, 15_000);
    });

    it('close() aborts the signal, waits for running tasks and starts no more', async () => {
      const queue = await make(`q-${randomUUID()}`);
      let started = 0;
      let finished = 0;
      let abortedSeen = false;
      await queue.start(
        async (_task, signal) => {
          started++;
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          abortedSeen = signal.aborted;
          await sleep(200);
          finished++;
        },
        { concurrency: 2 },
      );
      await queue.enqueue(tasks(5));
      await until(() => started === 2);
      await queue.close();
      expect(abortedSeen).toBe(true);
      expect(finished).toBe(2);
      await sleep(200);
      expect(started).toBe(2);
    });

    it('accepts tasks handed back while closing; a distributed queue gives them to another consumer', async () => {
      const name = `q-${randomUUID()}`;
      const first = await make(name);
      const [task, rest] = tasks(2);
      let handedBack = false;
      await first.start(
        async (t, signal) => {
          if (t.chunk !== task.chunk) return;
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await first.enqueue([rest]);
          handedBack = true;
        },
        { concurrency: 1 },
      );
      await first.enqueue([task]);
      await sleep(300);
      await first.close();
      expect(handedBack).toBe(true);
      if (!first.distributed) return;
      const second = await make(name);
      const seen: ChunkTask[] = [];
      await second.start(async (t) => void seen.push(t), { concurrency: 1 });
      await until(() => seen.length === 1);
      expect(seen[0]).toEqual(rest);
    });

    it('creates a rate limiter if it offers one', async () => {
      const queue = await make(`q-${randomUUID()}`);
      if (!queue.createRateLimiter) return;
      const limiter = queue.createRateLimiter({ rate: 100 });
      try {
        expect(limiter.rate).toBe(100);
        expect(limiter.maxBurst()).toBeGreaterThanOrEqual(1);
        expect(await limiter.reserve(1)).toBeGreaterThanOrEqual(0);
      } finally {
        await limiter.close();
      }
    });
  });
}
