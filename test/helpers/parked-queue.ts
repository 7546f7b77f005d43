// parkedQueue(): a Queue that other processes would consume; nobody does here, so jobs stay unfinished.
import type { Queue, QueuedWork } from '../../src/types.js';

/** `distributed: true` so that a router may use it with `worker: false`; `onAdd` sees each job's work. */
export function parkedQueue(onAdd: (work: QueuedWork) => void | Promise<void> = () => {}): Queue {
  return {
    distributed: true,
    add: async (work) => {
      await onAdd(work);
    },
    async pause() {},
    async resume() {},
    async remove() {},
    async start() {
      throw new Error('parkedQueue: nothing consumes this queue');
    },
    setRate() {},
    async penalize() {},
    async setQuota() {},
    async stats() {
      return [];
    },
    async close() {},
  };
}
