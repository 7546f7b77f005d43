// The in-process queue against the shared Queue contract, plus its retry and delay-timer rules.
import { describe, expect, it } from 'vitest';
import { inProcessQueue } from '../../src/queues/in-process-queue.js';
import type { Logger } from '../../src/types.js';
import { describeQueueContract } from './queue-contract.js';

describeQueueContract('in-process', () => inProcessQueue({ retryDelayMs: 50 }));

const task = { jobId: 'j', chunk: 0, entries: [] };

describe('inProcessQueue', () => {
  it('is not distributed', () => {
    expect(inProcessQueue().distributed).toBe(false);
  });

  it('gives up on a task after its retries and logs each failure', async () => {
    const warn: object[] = [];
    const error: object[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (o) => void warn.push(o), error: (o) => void error.push(o) };
    const queue = inProcessQueue({ retries: 2, retryDelayMs: 10 });
    let runs = 0;
    await queue.start(
      async () => {
        runs++;
        throw new Error('always');
      },
      { concurrency: 1, logger },
    );
    await queue.enqueue([task]);
    await new Promise((r) => setTimeout(r, 200));
    await queue.close();
    expect(runs).toBe(3);
    expect(warn).toHaveLength(2);
    expect(warn[0]).toMatchObject({ code: 'EBE_TASK_RETRY', jobId: 'j', chunk: 0 });
    expect(error).toEqual([expect.objectContaining({ code: 'EBE_TASK_FAILED' })]);
  });

  it('drops pending delays on close', async () => {
    const queue = inProcessQueue();
    let runs = 0;
    await queue.start(async () => void runs++, { concurrency: 1 });
    await queue.enqueue([task], { delayMs: 50 });
    await queue.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(0);
  });

  it('refuses a second start and a bad concurrency', async () => {
    const queue = inProcessQueue();
    await expect(queue.start(async () => {}, { concurrency: 0 })).rejects.toThrow(TypeError);
    await queue.start(async () => {}, { concurrency: 1 });
    await expect(queue.start(async () => {}, { concurrency: 1 })).rejects.toThrow(/already/);
    await queue.close();
  });
});
