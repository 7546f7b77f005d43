// Templates kept as files next to the app: requests name a template, the folder resolver supplies its content.
import { fileURLToPath } from 'node:url';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { allowAnonymous, bulkEmail, folderTemplates } from 'express-bulk-email';

export const TEMPLATE_DIR = fileURLToPath(new URL('./templates', import.meta.url));

export function createApp(options: { ses?: SESv2Client; sendRate?: number | 'account' } = {}) {
  const app = express();
  const bulk = bulkEmail({
    ses: options.ses,
    sendRate: options.sendRate,
    authenticate: allowAnonymous(),
    resolveTemplate: folderTemplates(TEMPLATE_DIR),
  });
  app.use('/bulk-email', bulk);
  return { app, close: () => bulk.close() };
}
