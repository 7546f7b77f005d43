// SES delivery events: SNS → POST /bulk-email/events/sns, results with delivery, the suppression list, the guard.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { type BulkEmailEvent, bulkEmail } from 'express-bulk-email';

export interface SesEventsAppOptions {
  ses?: SESv2Client;
  sendRate?: number | 'account';
  /** The SNS topics your configuration sets publish to. */
  topicArns: string[];
  /** Demo and tests only: serve the signing certificate yourself instead of downloading SNS's. */
  fetchCertificate?: (url: string) => Promise<string>;
  /** Protects POST /admin/principals/:id/resume. */
  adminToken?: string;
  onEvent?: (event: BulkEmailEvent) => void;
}

/** Tenants by API key (a real app looks them up). */
const TENANTS: Record<string, string> = { 'key-acme': 'acme', 'key-globex': 'globex' };

export function createApp(options: SesEventsAppOptions) {
  const bulk = bulkEmail({
    ses: options.ses,
    sendRate: options.sendRate,
    authenticate: (req) => {
      const tenant = TENANTS[req.get('x-api-key') ?? ''];
      return tenant ? { id: tenant } : null;
    },
    events: { sns: { topicArns: options.topicArns, fetchCertificate: options.fetchCertificate }, retention: '14d' },
    guard: { bounceRate: 0.05, complaintRate: 0.001, minMessages: 500, window: '24h' },
    onEvent: (event) => {
      if (event.type === 'entry.bounced' || event.type === 'entry.complained' || event.type === 'principal.paused') {
        console.log(`[ses-events] ${event.type}`, JSON.stringify(event));
      }
      options.onEvent?.(event);
    },
  });
  const app = express();
  app.use('/bulk-email', bulk);
  // The operator lifts a reputation pause once the tenant has cleaned its list.
  app.post('/admin/principals/:id/resume', async (req, res) => {
    if (!options.adminToken || req.get('authorization') !== `Bearer ${options.adminToken}`) {
      res.status(401).json({ success: false, error: { code: 'UNAUTHORIZED', message: 'admin token required' } });
      return;
    }
    res.json({ success: true, data: await bulk.resumePrincipal(req.params.id) });
  });
  return { app, router: bulk, close: () => bulk.close() };
}
