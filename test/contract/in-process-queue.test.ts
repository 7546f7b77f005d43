// The in-process queue against the shared Queue contract.
import { describe, expect, it } from 'vitest';
import { inProcessQueue } from '../../src/queues/in-process-queue.js';
import { describeQueueContract } from './queue-contract.js';

describeQueueContract('in-process', () => inProcessQueue({ retryDelayMs: 50 }));

describe('inProcessQueue', () => {
  it('is not distributed', () => {
    expect(inProcessQueue().distributed).toBe(false);
  });

  it('refuses a second start and a bad concurrency', async () => {
    const queue = inProcessQueue();
    await expect(queue.start(async () => ({ kind: 'done' }), { concurrency: 0 })).rejects.toThrow(TypeError);
    await queue.start(async () => ({ kind: 'done' }), { concurrency: 1 });
    await expect(queue.start(async () => ({ kind: 'done' }), { concurrency: 1 })).rejects.toThrow(/already/);
    await queue.close();
  });
});
