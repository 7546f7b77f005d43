// Child process for the crash test: consumes a BullMQ queue, reports each task it starts, then hangs until killed.
import { bullmqQueue } from '../../src/redis.js';

const [url, name, prefix] = process.argv.slice(2);
const queue = bullmqQueue({ connection: url, name, prefix });
await queue.start(
  async (task) => {
    process.send?.({ started: task.chunk });
    await new Promise(() => {});
  },
  { concurrency: 1 },
);
process.send?.({ ready: true });
