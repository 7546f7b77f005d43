// Unsubscribe tokens: sign/verify round trip, tampering, expiry, malformed and oversized input.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH, signToken, verifyToken } from '../../src/unsubscribe/token.js';

const SECRET = 'a-very-secret-secret-of-32-chars';
const payload = {
  address: 'alice@example.com',
  jobId: '6f1c1c1e-9d4e-4a39-a7b5-0b7d3c1b0e11',
  principalId: 'tenant-42',
  expiresAt: 1_800_000_000_000,
};
const NOW = 1_700_000_000_000;

describe('signToken / verifyToken', () => {
  it('round-trips', () => {
    const token = signToken(payload, SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyToken(token, SECRET, NOW)).toEqual({ ok: true, payload });
  });

  it('accepts a Buffer secret the same as its string', () => {
    const token = signToken(payload, Buffer.from(SECRET));
    expect(verifyToken(token, SECRET, NOW).ok).toBe(true);
  });

  it('is deterministic and short for a typical payload', () => {
    const token = signToken(payload, SECRET);
    expect(signToken(payload, SECRET)).toBe(token);
    expect(token.length).toBeLessThan(200);
  });

  it('rejects another secret', () => {
    expect(verifyToken(signToken(payload, SECRET), 'another-secret-of-enough-length', NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('rejects a changed payload', () => {
    const token = signToken(payload, SECRET);
    const [, sig] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ a: 'bob@example.com', j: payload.jobId, p: payload.principalId, e: payload.expiresAt }),
    ).toString('base64url');
    expect(verifyToken(`${forged}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a plain HMAC of the payload (the MAC is domain-separated)', () => {
    const [body] = signToken(payload, SECRET).split('.');
    const naive = createHmac('sha256', SECRET).update(body).digest('base64url');
    expect(verifyToken(`${body}.${naive}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('any single-character change is refused', () => {
    const token = signToken(payload, SECRET);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCabc019_-.'), (at, ch) => {
        fc.pre(token[at] !== ch);
        const changed = token.slice(0, at) + ch + token.slice(at + 1);
        const result = verifyToken(changed, SECRET, NOW);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(['bad-signature', 'malformed']).toContain(result.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('expires at expiresAt', () => {
    const token = signToken(payload, SECRET);
    expect(verifyToken(token, SECRET, payload.expiresAt - 1).ok).toBe(true);
    expect(verifyToken(token, SECRET, payload.expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['empty', ''],
    ['no dot', 'abc'],
    ['empty payload', `.${'A'.repeat(43)}`],
    ['short signature', 'abc.def'],
    ['two dots', `a.b.${'A'.repeat(43)}`],
    ['bad characters', `a+b.${'A'.repeat(43)}`],
    ['padding', `abc=.${'A'.repeat(43)}`],
  ])('malformed: %s', (_label, token) => {
    expect(verifyToken(token, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('malformed: not a string', () => {
    expect(verifyToken(undefined, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyToken(['a'], SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('malformed: a signed payload of the wrong shape', () => {
    const body = Buffer.from(JSON.stringify({ a: 'x@y.z', e: 'soon' })).toString('base64url');
    const sig = createHmac('sha256', SECRET)
      .update('express-bulk-email/unsubscribe/v1\0')
      .update(body)
      .digest('base64url');
    expect(verifyToken(`${body}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a non-canonical signature encoding (unused low bits set)', () => {
    const token = signToken(payload, SECRET);
    const last = token[token.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]; // same top 4 bits, differs only in the 2 unused bits
    expect(verifyToken(token.slice(0, -1) + twin, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses oversized tokens before computing anything', () => {
    const huge = `${'A'.repeat(MAX_TOKEN_LENGTH)}.${'A'.repeat(43)}`;
    expect(verifyToken(huge, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('handles non-ASCII addresses', () => {
    const p = { ...payload, address: 'jörg@bücher.example' };
    expect(verifyToken(signToken(p, SECRET), SECRET, NOW)).toEqual({ ok: true, payload: p });
  });
});
