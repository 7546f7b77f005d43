// Child process for the web-kill suite: a bulkEmail router (worker: false) over redisStore + redisQueue, on a port.
// `die`: SIGKILL itself just before storing the job ('before-store') or just after storing and queueing it, before the
// idempotency answer is kept and the response sent ('after-store').
// Run as `node --import tsx test/integ/redis-web-process.ts '<json RedisWebConfig>'` (cwd: the repository root).
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import type { Store } from '../../src/types.js';
import { type ChildMessage, childReporting } from './child-report.js';

export interface RedisWebConfig {
  redisUrl: string;
  sesUrl: string;
  prefix: string;
  die?: 'before-store' | 'after-store';
}

export type RedisWebMessage = ChildMessage | { type: 'listening'; pid: number; port: number };

const config = JSON.parse(process.argv[2] ?? '{}') as RedisWebConfig;
const { report, logger } = childReporting<RedisWebMessage>();
const ses = new SESv2Client({
  endpoint: config.sesUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const real = redisStore({ connection: config.redisUrl, prefix: config.prefix });
const die = () => process.kill(process.pid, 'SIGKILL');
const store: Store = {
  ...real,
  createJob: async (...args) => {
    if (config.die === 'before-store') die();
    return real.createJob(...args);
  },
  completeIdempotency: async (...args) => {
    if (config.die === 'after-store') die();
    return real.completeIdempotency(...args);
  },
};
const queue = redisQueue({ connection: config.redisUrl, prefix: config.prefix });
const router = bulkEmail({
  ses,
  sendRate: 100,
  authenticate: () => ({ id: 'tenant-web' }),
  store,
  queue,
  worker: false,
  logger,
});
const server = express().use('/bulk-email', router).listen(0, '127.0.0.1');
server.once('listening', () => {
  report({ type: 'listening', pid: process.pid, port: (server.address() as AddressInfo).port });
  report({ type: 'ready', pid: process.pid });
});
process.on('disconnect', () => {
  server.close();
  void router
    .close()
    .then(() => Promise.all([real.close(), queue.close()]))
    .finally(() => process.exit(0));
});
