// The web process of the Redis example: accepts, checks and tracks bulk sends; worker processes (worker.ts) send them.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail, type Logger } from 'express-bulk-email';
import { bullmqQueue, type RedisConnection, redisStore } from 'express-bulk-email/redis';

export interface RedisAppOptions {
  /** The SES client (or its config); the web process only reads the account with it, for estimates and quota. */
  ses?: SESv2Client | SESv2ClientConfig;
  /** ioredis options, a redis:// URL or an ioredis instance; the same Redis as the workers. */
  connection: RedisConnection;
  /** Key prefix of the job store and the BullMQ queue (they do not collide). Default `ebe`. */
  prefix?: string;
  /** BullMQ queue name; the workers must use the same. Default `express-bulk-email`. */
  queueName?: string;
  /** API key → principal id. In a real app: a database lookup of a hashed key. */
  apiKeys?: Record<string, string>;
  /** Recipients per second for `estimated_completion_at`; default: read from the SES account, as the workers do. */
  sendRate?: number | 'account';
  logger?: Logger;
}

export const DEMO_KEYS: Record<string, string> = { 'demo-key-1': 'tenant-1', 'demo-key-2': 'tenant-2' };

export function createApp(options: RedisAppOptions) {
  const prefix = options.prefix ?? 'ebe';
  const keys = new Map(Object.entries(options.apiKeys ?? DEMO_KEYS));
  const store = redisStore({ connection: options.connection, prefix });
  const queue = bullmqQueue({
    connection: options.connection,
    name: options.queueName,
    prefix,
    logger: options.logger,
  });
  const bulk = bulkEmail({
    ses: options.ses,
    sendRate: options.sendRate,
    store,
    queue,
    // This process accepts and tracks; the workers send.
    worker: false,
    authenticate: (req) => {
      const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
      const id = match ? keys.get(match[1]) : undefined;
      return id ? { id } : null;
    },
    logger: options.logger,
  });
  const app = express();
  app.use('/bulk-email', bulk);
  return {
    app,
    /** Closes the router, then the store and queue connections this app opened. */
    close: async () => {
      await bulk.close();
      await queue.close();
      await store.close();
    },
  };
}
