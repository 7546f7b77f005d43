// Unsubscribe tokens: a base64url JSON payload and its HMAC-SHA256, signed and verified in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UnsubscribeTokenPayload {
  /** The recipient address the token unsubscribes. */
  address: string;
  jobId: string;
  principalId: string;
  /** When the token stops working, in ms since the epoch. */
  expiresAt: number;
}

export type TokenFailure = 'malformed' | 'bad-signature' | 'expired';

export type VerifyTokenResult = { ok: true; payload: UnsubscribeTokenPayload } | { ok: false; reason: TokenFailure };

/** Tokens longer than this are refused before any work (a List-Unsubscribe value cannot hold more anyway). */
export const MAX_TOKEN_LENGTH = 1024;

/** Mixed into every MAC so that a secret shared with something else cannot mint these tokens. */
const MAC_CONTEXT = 'express-bulk-email/unsubscribe/v1\0';
const SIGNATURE_CHARS = 43; // base64url of 32 bytes, unpadded
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function mac(payloadPart: string, secret: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(MAC_CONTEXT).update(payloadPart).digest();
}

/** `base64url(JSON payload) + '.' + base64url(HMAC-SHA256)`: URL-safe, no padding. */
export function signToken(payload: UnsubscribeTokenPayload, secret: string | Uint8Array): string {
  const json = JSON.stringify({ a: payload.address, j: payload.jobId, p: payload.principalId, e: payload.expiresAt });
  const payloadPart = Buffer.from(json, 'utf8').toString('base64url');
  return `${payloadPart}.${mac(payloadPart, secret).toString('base64url')}`;
}

/**
 * The token's payload when its signature is right and `now` (ms) is before `expiresAt`; otherwise why not.
 * The signature is checked (constant time) before the payload is parsed.
 */
export function verifyToken(token: unknown, secret: string | Uint8Array, now: number): VerifyTokenResult {
  const fail = (reason: TokenFailure): VerifyTokenResult => ({ ok: false, reason });
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return fail('malformed');
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length - dot - 1 !== SIGNATURE_CHARS) return fail('malformed');
  const payloadPart = token.slice(0, dot);
  const signaturePart = token.slice(dot + 1);
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) return fail('malformed');
  const given = Buffer.from(signaturePart, 'base64url');
  // only the canonical encoding: one token string per signature, so a token's hash identifies it
  if (given.length !== 32 || given.toString('base64url') !== signaturePart) return fail('malformed');
  if (!timingSafeEqual(given, mac(payloadPart, secret))) return fail('bad-signature');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return fail('malformed');
  }
  const p = raw as { a?: unknown; j?: unknown; p?: unknown; e?: unknown } | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.a !== 'string' ||
    p.a === '' ||
    typeof p.j !== 'string' ||
    typeof p.p !== 'string' ||
    typeof p.e !== 'number' ||
    !Number.isFinite(p.e)
  ) {
    return fail('malformed');
  }
  if (now >= p.e) return fail('expired');
  return { ok: true, payload: { address: p.a, jobId: p.j, principalId: p.p, expiresAt: p.e } };
}
