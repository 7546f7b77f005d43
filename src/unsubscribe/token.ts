// Unsubscribe tokens: who to unsubscribe, sealed with AES-256-GCM (opaque, tamper-evident, expiring).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

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

export interface UnsubscribeTokens {
  /** A new token for `payload`: base64url, no padding, different every time (random nonce). */
  sign(payload: UnsubscribeTokenPayload): string;
  /** The payload when the token is authentic and `now` (ms) is before its expiry; otherwise why not. */
  verify(token: unknown, now: number): VerifyTokenResult;
}

/** Tokens longer than this are refused before any work (a List-Unsubscribe value cannot hold more anyway). */
export const MAX_TOKEN_LENGTH = 1024;

const VERSION = 2;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bound into every token as associated data, and the HKDF info: keys for this use only. */
const CONTEXT = 'express-bulk-email/unsubscribe/v2';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Version 1 (before 0.2): `base64url(JSON).base64url(HMAC)`, readable; still verified until its links expire. */
const V1_CONTEXT = 'express-bulk-email/unsubscribe/v1\0';
const V1_SIGNATURE_CHARS = 43;

/**
 * Tokens under one secret. A token is `base64url(version ‖ nonce ‖ AES-256-GCM(JSON payload) ‖ tag)`: it reveals
 * nothing (no principal, job or address), and GCM's tag, checked in constant time by OpenSSL, refuses any change.
 * The key is derived once from the secret with HKDF-SHA256, so the secret itself never keys anything directly and a
 * secret shared with another use cannot mint these tokens. Chosen over a random id kept in the store: nothing per
 * recipient is stored for the token's lifetime (60 days × every recipient), and any process can verify a token.
 */
export function unsubscribeTokens(secret: string | Uint8Array): UnsubscribeTokens {
  const key = Buffer.from(hkdfSync('sha256', secret, CONTEXT, 'aes-256-gcm key', 32));
  const aad = Buffer.from(CONTEXT);
  const versionByte = Buffer.from([VERSION]);

  function sign(payload: UnsubscribeTokenPayload): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const json = JSON.stringify({ a: payload.address, j: payload.jobId, p: payload.principalId, e: payload.expiresAt });
    const sealed = Buffer.concat([
      versionByte,
      nonce,
      cipher.update(json, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return sealed.toString('base64url');
  }

  function open(token: string): VerifyTokenResult | string {
    const raw = Buffer.from(token, 'base64url');
    // only the canonical encoding: one token string per sealed value, so a token's hash identifies it
    if (raw.length <= 1 + NONCE_BYTES + TAG_BYTES || raw.toString('base64url') !== token || raw[0] !== VERSION) {
      return { ok: false, reason: 'malformed' };
    }
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 1 + NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      const plain = decipher.update(raw.subarray(1 + NONCE_BYTES, raw.length - TAG_BYTES));
      return Buffer.concat([plain, decipher.final()]).toString('utf8');
    } catch {
      return { ok: false, reason: 'bad-signature' };
    }
  }

  function openV1(token: string, dot: number): VerifyTokenResult | string {
    const payloadPart = token.slice(0, dot);
    const signaturePart = token.slice(dot + 1);
    if (signaturePart.length !== V1_SIGNATURE_CHARS || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
      return { ok: false, reason: 'malformed' };
    }
    const given = Buffer.from(signaturePart, 'base64url');
    if (given.length !== 32 || given.toString('base64url') !== signaturePart) return { ok: false, reason: 'malformed' };
    const expected = createHmac('sha256', secret).update(V1_CONTEXT).update(payloadPart).digest();
    if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
    return Buffer.from(payloadPart, 'base64url').toString('utf8');
  }

  function verify(token: unknown, now: number): VerifyTokenResult {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      return { ok: false, reason: 'malformed' };
    }
    const dot = token.indexOf('.');
    if (dot < 0 && !BASE64URL.test(token)) return { ok: false, reason: 'malformed' };
    const opened = dot < 0 ? open(token) : openV1(token, dot);
    if (typeof opened !== 'string') return opened;
    return payloadOf(opened, now);
  }

  return { sign, verify };
}

/** The checked payload of an authentic token's JSON, or why it cannot be used. */
function payloadOf(json: string, now: number): VerifyTokenResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'malformed' };
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
    return { ok: false, reason: 'malformed' };
  }
  if (now >= p.e) return { ok: false, reason: 'expired' };
  return { ok: true, payload: { address: p.a, jobId: p.j, principalId: p.p, expiresAt: p.e } };
}
