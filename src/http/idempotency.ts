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
 * Runs `create` at most once per (principal, key, body): the first request claims the key and its answer is kept
 * for 24 h; a repeat with the same body replays that answer (`replayed`), with another body → 422, while the first
 * is still running → 409 with Retry-After. A `create` that throws releases the key (nothing was created, so the
 * request may be retried). Without a key, `create` just runs.
 */
export async function idempotent(
  store: Store,
  principalId: string,
  key: string | undefined,
  body: unknown,
  create: () => Promise<StoredResponse>,
): Promise<{ response: StoredResponse; replayed: boolean }> {
  if (key === undefined) return { response: await create(), replayed: false };
  const scoped = scopedKey(principalId, key);
  const print = fingerprint(body);
  const claim = await store.claimIdempotency(scoped, print, IDEMPOTENCY_TTL_MS, principalId);
  if (claim.state === 'replay') return { response: claim.response, replayed: true };
  if (claim.state === 'mismatch') {
    throw new BulkEmailError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different body');
  }
  if (claim.state === 'in_flight') {
    throw new BulkEmailError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', {
      retryAfter: 1,
    });
  }
  let response: StoredResponse;
  try {
    response = await create();
  } catch (err) {
    await store.releaseIdempotency(scoped).catch(() => undefined);
    throw err;
  }
  await store.completeIdempotency(scoped, print, response, IDEMPOTENCY_TTL_MS);
  return { response, replayed: false };
}
