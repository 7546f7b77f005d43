// Idempotency-Key header checks and the canonical-JSON fingerprint of a request body.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { BulkEmailError } from '../errors.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** The key, or undefined when the header is absent. Throws IDEMPOTENCY_KEY_INVALID for a bad one. */
export function idempotencyKey(req: Request): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  // Node joins repeated headers it does not know with ", "; read the raw pairs to catch repeats.
  const count = req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i].toLowerCase() === 'idempotency-key').length;
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

/** JSON with object keys sorted at every level, so that key order does not change the fingerprint. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const obj = value as Record<string, unknown>;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function fingerprint(body: unknown, extra = ''): string {
  return createHash('sha256').update(canonicalJson(body)).update('\0').update(extra).digest('base64url');
}

/** Store key: scoped to the principal so two principals may use the same key. */
export function scopedKey(principalId: string, key: string): string {
  return `${principalId.length}:${principalId}:${key}`;
}
