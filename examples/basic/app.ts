// The smallest useful app: one router, anonymous access (demo only), embedded memory store and in-process queue.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { allowAnonymous, bulkEmail } from 'express-bulk-email';

export interface BasicAppOptions {
  ses?: SESv2Client;
  /** Recipients per second; default: read from the SES account. */
  sendRate?: number | 'account';
}

export function createApp(options: BasicAppOptions = {}) {
  const app = express();
  const bulk = bulkEmail({ ses: options.ses, sendRate: options.sendRate, authenticate: allowAnonymous() });
  app.use('/bulk-email', bulk);
  app.get('/', (_req, res) => {
    res.type('text').send('POST a SendBulkEmail body to /bulk-email\n');
  });
  return { app, close: () => bulk.close() };
}
