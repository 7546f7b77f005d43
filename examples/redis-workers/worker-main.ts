// Runs one worker process of the Redis example: REDIS_URL, SEND_RATE (recipients/s for all workers together, or 'account'), SES_ENDPOINT.
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { Logger } from 'express-bulk-email';
import { startWorker } from './worker.js';

const ses: SESv2ClientConfig = process.env.SES_ENDPOINT
  ? {
      endpoint: process.env.SES_ENDPOINT,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }
  : {};
const rate = process.env.SEND_RATE ?? 'account';

/** One JSON line per message; info to stdout, warnings and errors to stderr (use pino in a real app). */
const line = (level: string, obj: object, msg?: string) =>
  JSON.stringify({ level, msg, ...obj }, (_key, value: unknown) => (value instanceof Error ? value.message : value));
const logger: Logger = {
  debug() {},
  info: (obj, msg) => console.log(line('info', obj, msg)),
  warn: (obj, msg) => console.error(line('warn', obj, msg)),
  error: (obj, msg) => console.error(line('error', obj, msg)),
};

const worker = startWorker({
  ses,
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  sendRate: rate === 'account' ? 'account' : Number(rate),
  prefix: process.env.EBE_PREFIX,
  queueName: process.env.EBE_QUEUE,
  concurrency: process.env.CONCURRENCY ? Number(process.env.CONCURRENCY) : undefined,
  logger,
});
try {
  await worker.ready;
  console.log(
    `express-bulk-email worker ${process.pid} sending at ${worker.rate()} recipients/s (shared by all workers)`,
  );
} catch (err) {
  console.error(`express-bulk-email worker could not start: ${err instanceof Error ? err.message : String(err)}`);
  await worker.close();
  process.exitCode = 1;
}
