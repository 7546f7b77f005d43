// The dashboard behind the app's own session auth: POST /login sets a signed session cookie, and the router's
// authenticate reads it — for the dashboard page, its live stream and its buttons, as for every route.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail } from 'express-bulk-email';

export interface DashboardAppOptions {
  ses?: SESv2Client;
  /** Recipients per second; default: read from the SES account. */
  sendRate?: number | 'account';
  /** Signs session cookies. Default: random per process (sessions end on restart). */
  sessionSecret?: string;
  /** Users and passwords (a real app checks a password hash in its database). */
  users?: Record<string, string>;
}

const COOKIE = 'session';

export function createApp(options: DashboardAppOptions = {}) {
  const secret = options.sessionSecret ?? randomBytes(32).toString('hex');
  const users = options.users ?? { alice: 'alice-password', bob: 'bob-password' };
  const sign = (user: string) => createHmac('sha256', secret).update(user).digest('base64url');
  /** `user.signature` → the user, or null when the cookie is missing or forged. */
  const sessionUser = (req: express.Request): string | null => {
    const match = /(?:^|;\s*)session=([^;]+)/.exec(req.get('cookie') ?? '');
    if (!match) return null;
    const value = decodeURIComponent(match[1]);
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const user = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(sign(user));
    return given.length === expected.length && timingSafeEqual(given, expected) && user in users ? user : null;
  };
  /** What a browser test (or a script) sends as the Cookie header for `user`. */
  const cookieFor = (user: string) => `${COOKIE}=${encodeURIComponent(`${user}.${sign(user)}`)}`;

  const bulk = bulkEmail({
    ses: options.ses,
    sendRate: options.sendRate,
    dashboard: true,
    authenticate: (req) => {
      const user = sessionUser(req);
      return user ? { id: user } : null;
    },
  });

  const app = express();
  app.post('/login', express.urlencoded({ extended: false, limit: '2kb' }), (req, res) => {
    const { user, password } = (req.body ?? {}) as { user?: string; password?: string };
    const known = typeof user === 'string' ? users[user] : undefined;
    if (!known || typeof password !== 'string' || password !== known) {
      res.status(401).type('text').send('Wrong user or password\n');
      return;
    }
    res.cookie(COOKIE, `${user}.${sign(user as string)}`, { httpOnly: true, sameSite: 'strict', path: '/' });
    res.redirect(303, '/bulk-email/dashboard');
  });
  app.post('/logout', (_req, res) => {
    res.clearCookie(COOKIE, { path: '/' });
    res.redirect(303, '/');
  });
  app.get('/', (_req, res) => {
    res
      .type('html')
      .send(
        '<!doctype html><title>Sign in</title><form method="post" action="/login">' +
          '<label>User <input name="user"></label> <label>Password <input name="password" type="password"></label> ' +
          '<button>Sign in</button></form>',
      );
  });
  // The dashboard, its stream and the API, all behind the session cookie.
  app.use('/bulk-email', bulk);
  return { app, router: bulk, cookieFor, close: () => bulk.close() };
}
