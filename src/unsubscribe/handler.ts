// unsubscribeHandler(): the public POST /unsubscribe/:token route — verify, call onUnsubscribe once per token, answer 200.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ok } from '../envelope.js';
import { BulkEmailError } from '../errors.js';
import type { Clock, Store, UnsubscribeOptions } from '../types.js';
import { type TokenFailure, unsubscribeTokens } from './token.js';

export interface UnsubscribeHandlerOptions {
  secret: string | Uint8Array;
  onUnsubscribe: UnsubscribeOptions['onUnsubscribe'];
  /** Remembers used tokens (idempotency keys `unsubscribe:<sha256 of the token>`, scope `unsubscribe:<principal>`). */
  store: Pick<Store, 'claimIdempotency' | 'completeIdempotency' | 'releaseIdempotency'>;
  clock?: Pick<Clock, 'now'>;
  /** Puts the address on the principal's suppression list (before `onUnsubscribe`; idempotent, so run on repeats too). */
  suppress?: (address: string, principalId: string, at: string) => Promise<unknown>;
}

const MESSAGES: Record<TokenFailure, string> = {
  malformed: 'This unsubscribe link is malformed',
  'bad-signature': 'This unsubscribe link is not valid',
  expired: 'This unsubscribe link has expired',
};

const FINGERPRINT = 'u';

/**
 * Express handler for `POST /unsubscribe/:token` (RFC 8058 one-click). Needs no authentication and reads no body
 * (mailbox providers send `List-Unsubscribe=One-Click` form-encoded). A forged, malformed or expired token →
 * `INVALID_TOKEN` (400) through the error boundary. `onUnsubscribe` runs at most once per token; a repeat gets the
 * same 200, a repeat while the first is still running gets 409 `IDEMPOTENCY_IN_FLIGHT`. If `onUnsubscribe` throws,
 * the token is released so the provider's retry can succeed.
 */
export function unsubscribeHandler(options: UnsubscribeHandlerOptions): RequestHandler {
  const { onUnsubscribe, store } = options;
  const tokens = unsubscribeTokens(options.secret);
  const clock = options.clock ?? { now: () => Date.now() };

  const handle = async (req: Request, res: Response): Promise<void> => {
    const now = clock.now();
    const verified = tokens.verify(req.params.token, now);
    if (!verified.ok) {
      throw new BulkEmailError('INVALID_TOKEN', MESSAGES[verified.reason], { details: { reason: verified.reason } });
    }
    const { payload } = verified;
    const key = `unsubscribe:${createHash('sha256')
      .update(req.params.token as string)
      .digest('base64url')}`;
    const ttlMs = Math.max(1000, payload.expiresAt - now);
    res.set('Cache-Control', 'no-store');
    const claim = await store.claimIdempotency(key, FINGERPRINT, ttlMs, `unsubscribe:${payload.principalId}`);
    if (claim.state === 'replay') {
      res.status(claim.response.status).json(claim.response.body);
      return;
    }
    if (claim.state === 'in_flight') {
      throw new BulkEmailError('IDEMPOTENCY_IN_FLIGHT', 'This unsubscribe request is already being processed', {
        retryAfter: 1,
      });
    }
    const body = ok({ unsubscribed: true });
    // Ours first and whatever happens to the app's hook: the address is never mailed again by this router.
    await options.suppress?.(payload.address, payload.principalId, new Date(now).toISOString());
    if (claim.state === 'new') {
      try {
        await onUnsubscribe({ address: payload.address, job_id: payload.jobId, principal_id: payload.principalId });
      } catch (err) {
        await store.releaseIdempotency(key).catch(() => undefined);
        throw err;
      }
      await store.completeIdempotency(key, FINGERPRINT, { status: 200, body }, ttlMs);
    }
    res.status(200).json(body);
  };

  return (req: Request, res: Response, next: NextFunction) => {
    handle(req, res).catch(next);
  };
}
