// The in-process queue against the shared Queue and pacing contracts.
import { describe, expect, it } from 'vitest';
import * as vitest from 'vitest';
import { inProcessQueue } from '../../src/queues/in-process-queue.js';
import { describePacingContract, describeQueueContract } from '../../src/testing/index.js';

describeQueueContract(vitest, 'in-process', () => inProcessQueue({ retryDelayMs: 50 }));
describePacingContract(vitest, 'in-process', () => inProcessQueue());

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
