// Unsubscribe tokens: sealed round trip, opacity, tampering, expiry, malformed and oversized input, version-1 links.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH, unsubscribeTokens } from '../../src/unsubscribe/token.js';

const SECRET = 'a-very-secret-secret-of-32-chars';
const payload = {
  address: 'alice@example.com',
  jobId: '6f1c1c1e-9d4e-4a39-a7b5-0b7d3c1b0e11',
  principalId: 'tenant-42',
  expiresAt: 1_800_000_000_000,
};
const NOW = 1_700_000_000_000;
const tokens = unsubscribeTokens(SECRET);

/** A token as version 1 signed it: readable JSON and an HMAC (links in mail sent before the change). */
function v1Token(p: typeof payload, secret = SECRET): string {
  const json = JSON.stringify({ a: p.address, j: p.jobId, p: p.principalId, e: p.expiresAt });
  const body = Buffer.from(json).toString('base64url');
  const sig = createHmac('sha256', secret)
    .update('express-bulk-email/unsubscribe/v1\0')
    .update(body)
    .digest('base64url');
  return `${body}.${sig}`;
}

describe('unsubscribeTokens', () => {
  it('round-trips', () => {
    const token = tokens.sign(payload);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(tokens.verify(token, NOW)).toEqual({ ok: true, payload });
  });

  it('is opaque: no principal, job id or address in the token or in any decoding of it', () => {
    const token = tokens.sign(payload);
    const views = [token, Buffer.from(token, 'base64url').toString('latin1'), Buffer.from(token, 'base64').toString()];
    for (const view of views) {
      for (const secret of ['tenant-42', '6f1c1c1e', 'alice', 'example.com']) expect(view).not.toContain(secret);
    }
  });

  it('differs every time (random nonce), and every one of them works', () => {
    const a = tokens.sign(payload);
    const b = tokens.sign(payload);
    expect(a).not.toBe(b);
    expect(tokens.verify(b, NOW)).toEqual({ ok: true, payload });
  });

  it('accepts a Buffer secret the same as its string', () => {
    expect(unsubscribeTokens(Buffer.from(SECRET)).verify(tokens.sign(payload), NOW).ok).toBe(true);
  });

  it('stays short enough for a header for a typical payload', () => {
    expect(tokens.sign(payload).length).toBeLessThan(200);
  });

  it('rejects another secret', () => {
    expect(unsubscribeTokens('another-secret-of-enough-length').verify(tokens.sign(payload), NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('any single-character change is refused', () => {
    const token = tokens.sign(payload);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCabc019_-.'), (at, ch) => {
        fc.pre(token[at] !== ch);
        const changed = token.slice(0, at) + ch + token.slice(at + 1);
        const result = tokens.verify(changed, NOW);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(['bad-signature', 'malformed']).toContain(result.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('expires at expiresAt', () => {
    const token = tokens.sign(payload);
    expect(tokens.verify(token, payload.expiresAt - 1).ok).toBe(true);
    expect(tokens.verify(token, payload.expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['empty', ''],
    ['too short to hold anything', 'AgAAAA'],
    ['bad characters', 'a+b/c'],
    ['padding', 'abcd='],
    ['another version', Buffer.alloc(64, 7).toString('base64url')],
    ['v1 shape with a short signature', 'abc.def'],
    ['v1 shape with two dots', `a.b.${'A'.repeat(43)}`],
  ])('malformed: %s', (_label, token) => {
    expect(tokens.verify(token, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('malformed: not a string', () => {
    expect(tokens.verify(undefined, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(tokens.verify(['a'], NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a non-canonical encoding (unused low bits set)', () => {
    let token = tokens.sign(payload);
    // a length whose last base64url character carries unused bits (not a multiple of 3 bytes)
    while (Buffer.from(token, 'base64url').length % 3 === 0)
      token = tokens.sign({ ...payload, address: `x${payload.address}` });
    const last = token[token.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1];
    expect(tokens.verify(token.slice(0, -1) + twin, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses oversized tokens before computing anything', () => {
    expect(tokens.verify('A'.repeat(MAX_TOKEN_LENGTH + 1), NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('handles non-ASCII addresses', () => {
    const p = { ...payload, address: 'jörg@bücher.example' };
    expect(tokens.verify(tokens.sign(p), NOW)).toEqual({ ok: true, payload: p });
  });

  describe('version-1 tokens (links already in mailboxes)', () => {
    it('are still honoured until they expire', () => {
      expect(tokens.verify(v1Token(payload), NOW)).toEqual({ ok: true, payload });
      expect(tokens.verify(v1Token(payload), payload.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    });

    it('are refused when changed or signed with another secret', () => {
      const [body, sig] = v1Token(payload).split('.');
      const forged = Buffer.from(
        JSON.stringify({ a: 'bob@example.com', j: 'j', p: 'p', e: payload.expiresAt }),
      ).toString('base64url');
      expect(tokens.verify(`${forged}.${sig}`, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
      expect(tokens.verify(v1Token(payload, 'some-other-secret-16+'), NOW)).toEqual({
        ok: false,
        reason: 'bad-signature',
      });
      const naive = createHmac('sha256', SECRET).update(body).digest('base64url');
      expect(tokens.verify(`${body}.${naive}`, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    });
  });
});
