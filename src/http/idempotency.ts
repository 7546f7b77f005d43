// Idempotency-Key header checks and the canonical-JSON fingerprint of a request body.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { BulkEmailError } from '../errors.js';
import type { Store, StoredResponse } from '../types.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** The key, or undefined when the header is absent. Throws IDEMPOTENCY_KEY_INVALID for a bad one. */
export function idempotencyKey(req: Request): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  // Node joins repeated headers it does not know with ", "; read the raw pairs to catch repeats.
  const count = req.rawHeaders.filter(
    (_, i) => i % 2 === 0 && req.rawHeaders[i].toLowerCase() === 'idempotency-key',
  ).length;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const invalid = (why: string) =>
    new BulkEmailError('IDEMPOTENCY_KEY_INVALID', `Idempotency-Key ${why}`, {
      details: [{ path: '/headers/idempotency-key', message: why }],
    });
  if (count > 1) throw invalid('must be sent once');
  if (value.length === 0) throw invalid('must not be empty');
  if (value.length > 255) throw invalid('must be at most 255 characters');
  if (!/^[\x21-\x7e]+$/.test(value)) throw invalid('must be visible ASCII characters only');
  return value;
}

/**
 * JSON with object keys sorted at every level, so that key order does not change the fingerprint. Off the measured
 * accept path (only requests with an Idempotency-Key pay for it), so written plainly.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).update('\0').digest('base64url');
}

/** Store key: scoped to the principal so two principals may use the same key. */
export function scopedKey(principalId: string, key: string): string {
  return `${principalId.length}:${principalId}:${key}`;
}

/**
 * How long an in-flight claim blocks its key: a process that dies while creating leaves a claim that expires this
 * long after its holder's last refresh (the live holder refreshes it every IDEMPOTENCY_REFRESH_MS), then a retry
 * creates the job — unless the dead process had already stored it, which the retry finds through the claim's job id.
 */
export const IDEMPOTENCY_CLAIM_TTL_MS = 3 * 60 * 1000;
export const IDEMPOTENCY_REFRESH_MS = 60 * 1000;

export interface IdempotentJob {
  /** The id the job gets if this request creates it (kept with the claim). */
  jobId: string;
  /**
   * The answer for that job if it exists (its holder stored it, then died or has not answered yet), else null: the
   * retry answers it instead of waiting for, or creating, another job.
   */
  recover(jobId: string): Promise<StoredResponse | null>;
}

/**
 * Runs `create` at most once per (principal, key, body): the first request claims the key (for
 * IDEMPOTENCY_CLAIM_TTL_MS, refreshed while it runs) and its answer is kept for 24 h; a repeat with the same body
 * replays that answer (`replayed`), with another body → 422, while the first is still running → 409 with Retry-After
 * (or, when `job` is given and the first request already stored its job, that job's answer, replayed). A `create`
 * that throws releases the key (nothing was created, so the request may be retried). Without a key, `create` just
 * runs.
 */
export async function idempotent(
  store: Store,
  principalId: string,
  key: string | undefined,
  body: unknown,
  create: () => Promise<StoredResponse>,
  job?: IdempotentJob,
): Promise<{ response: StoredResponse; replayed: boolean }> {
  if (key === undefined) return { response: await create(), replayed: false };
  const scoped = scopedKey(principalId, key);
  const print = fingerprint(body);
  const claim = await store.claimIdempotency(scoped, print, IDEMPOTENCY_CLAIM_TTL_MS, principalId, job?.jobId);
  if (claim.state === 'replay') return { response: claim.response, replayed: true };
  if (claim.state === 'mismatch') {
    throw new BulkEmailError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different body');
  }
  if (claim.state === 'in_flight') {
    const found = job && claim.jobId !== undefined ? await job.recover(claim.jobId) : null;
    if (found) {
      await store.completeIdempotency(scoped, print, found, IDEMPOTENCY_TTL_MS);
      return { response: found, replayed: true };
    }
    throw new BulkEmailError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', {
      retryAfter: 1,
    });
  }
  const refresh = store.refreshIdempotency
    ? setInterval(
        () => void store.refreshIdempotency?.(scoped, print, IDEMPOTENCY_CLAIM_TTL_MS).catch(() => undefined),
        IDEMPOTENCY_REFRESH_MS,
      )
    : undefined;
  refresh?.unref?.();
  let response: StoredResponse;
  try {
    response = await create();
  } catch (err) {
    await store.releaseIdempotency(scoped).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(refresh);
  }
  await store.completeIdempotency(scoped, print, response, IDEMPOTENCY_TTL_MS);
  return { response, replayed: false };
}
