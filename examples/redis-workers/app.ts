// The web process of the Redis example: accepts, checks, stores and tracks bulk sends; worker processes send them.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail } from 'express-bulk-email';
import { type RedisConnection, redisQueue, redisStore } from 'express-bulk-email/redis';

export interface RedisAppOptions {
  /** The SES client (or its config); the web process only reads the account with it. */
  ses?: SESv2Client | SESv2ClientConfig;
  /** A redis:// URL, ioredis options or an ioredis instance: the same Redis as the workers. */
  connection: RedisConnection;
  /** Key prefix of the store and the queue; the workers must use the same. Default `ebe`. */
  prefix?: string;
  /** For `estimated_completion_at` only (the workers pace the sending). Default: the account's MaxSendRate. */
  sendRate?: number | 'account';
  /** API key → principal id. In a real app: a database lookup of a hashed key. */
  apiKeys?: Record<string, string>;
}

export const DEMO_KEYS: Record<string, string> = { 'demo-key-1': 'tenant-1', 'demo-key-2': 'tenant-2' };

export function createApp(options: RedisAppOptions) {
  const keys = new Map(Object.entries(options.apiKeys ?? DEMO_KEYS));
  const store = redisStore({ connection: options.connection, prefix: options.prefix });
  const queue = redisQueue({ connection: options.connection, prefix: options.prefix });
  const bulk = bulkEmail({
    ses: options.ses,
    sendRate: options.sendRate,
    store,
    queue,
    worker: false, // this process accepts and tracks; the workers send
    authenticate: (req) => {
      const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
      const id = match ? keys.get(match[1]) : undefined;
      return id ? { id } : null;
    },
  });
  const app = express();
  app.use('/bulk-email', bulk);
  return {
    app,
    /** Closes the router, then the Redis connections of the store and queue. */
    close: async () => {
      await bulk.close();
      await queue.close();
      await store.close();
    },
  };
}
