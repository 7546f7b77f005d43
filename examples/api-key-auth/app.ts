// API keys as principals: each key may send only from its own domain, and sees only its own jobs.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail, forbidden, rateLimited, type Principal } from 'express-bulk-email';

interface Tenant extends Principal {
  name: string;
  domain: string;
  maxEntries: number;
}

/** In a real app: a database lookup of a hashed key. */
const KEYS: Record<string, Tenant> = {
  'key-acme-123': { id: 'acme', name: 'Acme', domain: 'acme.test', maxEntries: 1000 },
  'key-globex-456': { id: 'globex', name: 'Globex', domain: 'globex.test', maxEntries: 100 },
};

export function createApp(options: { ses?: SESv2Client; sendRate?: number | 'account' } = {}) {
  const app = express();
  const bulk = bulkEmail<Tenant>({
    ses: options.ses,
    sendRate: options.sendRate,
    authenticate: (req) => {
      const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
      return match ? (KEYS[match[1]] ?? null) : null;
    },
    authorize: ({ principal, request }) => {
      if (request.BulkEmailEntries.length > principal.maxEntries) {
        throw forbidden(`${principal.name} may send at most ${principal.maxEntries} entries per job`);
      }
      return true;
    },
    senders: (principal) => [`@${principal.domain}`],
    validate: (request) => {
      if (request.ConfigurationSetName === 'blocked') throw rateLimited(60, 'That configuration set is cooling down');
    },
    maxActiveJobs: 5,
  });
  app.use('/bulk-email', bulk);
  return { app, close: () => bulk.close(), keys: Object.keys(KEYS) };
}
