// One webhook attempt: POST the signed body to a checked target, no redirects, a deadline, the answer's body unread.
import http from 'node:http';
import https from 'node:https';
import type { AddressPolicy } from './address-policy.js';
import { parseRetryAfter } from './retry-schedule.js';
import { checkWebhookUrl, guardedLookup, type ResolveHost, WebhookTargetError } from './safe-target.js';

export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone' }
  | { kind: 'failed'; reason: string; status?: number; retryAfterMs?: number };

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** null: any target (allowPrivate). */
  policy: AddressPolicy | null;
  resolve: ResolveHost;
  now: number;
  /** Aborts the attempt (shutdown): it fails with reason 'aborted'. */
  signal?: AbortSignal;
}

/** What an answer means: 2xx delivered, 410 gone (disable the endpoint), anything else (3xx too: no redirects) failed. */
export function classifyAnswer(status: number, retryAfter: string | undefined, now: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone' };
  return { kind: 'failed', reason: `HTTP ${status}`, status, retryAfterMs: parseRetryAfter(retryAfter, now) };
}

/** Never rejects: every failure is an outcome. Reads no byte of the answer's body (the socket is closed at once). */
export function postWebhook(request: WebhookRequest): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let url: URL;
    try {
      url = checkWebhookUrl(request.url, request.policy ?? NO_POLICY, request.policy === null);
    } catch (err) {
      resolve({ kind: 'failed', reason: (err as Error).message });
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(request.resolve, request.policy) as never,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      },
      (res) => {
        const retryAfter = res.headers['retry-after'];
        settle(
          classifyAnswer(res.statusCode ?? 0, typeof retryAfter === 'string' ? retryAfter : undefined, request.now),
        );
        res.destroy();
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'failed', reason: `no answer within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    const onAbort = () => {
      settle({ kind: 'failed', reason: 'aborted' });
      req.destroy();
    };
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => request.signal?.removeEventListener('abort', onAbort));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err instanceof WebhookTargetError ? err.message : `request failed (${err.code ?? err.message})`;
      settle({ kind: 'failed', reason });
    });
    req.end(request.body);
  });
}

const NO_POLICY: AddressPolicy = { isBlocked: () => false };
