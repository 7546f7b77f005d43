// Runs one worker process of the Redis example (start as many as you like): REDIS_URL, EBE_PREFIX, SEND_RATE, SES_ENDPOINT.
import type { Logger } from 'express-bulk-email';
import { sendRateFromEnv, sesFromEnv } from './ses-config.js';
import { startWorker } from './worker.js';

// Warnings and errors to stderr; use pino (or any pino-compatible logger) in a real app.
const logger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(msg, JSON.stringify(obj)),
  error: (obj, msg) => console.error(msg, JSON.stringify(obj)),
};

const worker = startWorker({
  ses: sesFromEnv(),
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.EBE_PREFIX,
  sendRate: sendRateFromEnv(),
  logger,
});

// SIGTERM (an orchestrator) or Ctrl-C: finish the calls in flight, hand the rest back, and exit once closed.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    worker.close().then(
      () => console.log(`express-bulk-email worker ${process.pid} stopped`),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  });
}

try {
  await worker.ready;
  console.log(
    `express-bulk-email worker ${process.pid} sending at ${worker.rate()} recipients/s (all workers together)`,
  );
} catch (err) {
  console.error(`express-bulk-email worker could not start: ${err instanceof Error ? err.message : String(err)}`);
  await worker.close();
  process.exitCode = 1;
}
