// unsubscribeHeaders(): the RFC 8058 header pair per entry, who it is for, replacement of old headers and SES limits.
import { describe, expect, it } from 'vitest';
import type { BulkEmailEntry } from '../../src/types.js';
import {
  recipientProblem,
  stripUnsubscribeHeaders,
  unsubscribeAddress,
  unsubscribeHeaders,
} from '../../src/unsubscribe/headers.js';
import { unsubscribeTokens } from '../../src/unsubscribe/token.js';

const tokens = unsubscribeTokens('a-very-secret-secret-of-32-chars');
const NOW = 1_700_000_000_000;
const base = {
  url: 'https://mail.example.com/bulk-email/unsubscribe',
  tokens,
  jobId: 'job-1',
  principalId: 'p-1',
  now: NOW,
};

function tokenOf(value: string): string {
  const m = /^<https:\/\/mail\.example\.com\/bulk-email\/unsubscribe\/([^>]+)>/.exec(value);
  if (!m) throw new Error(`unexpected value ${value}`);
  return m[1];
}

describe('unsubscribeHeaders', () => {
  it("adds List-Unsubscribe and List-Unsubscribe-Post for the entry's one recipient", () => {
    const entry: BulkEmailEntry = { Destination: { ToAddresses: ['Alice <alice@example.com>'] } };
    const out = unsubscribeHeaders(entry, base);
    if (typeof out === 'string') throw new Error(out);
    expect(out.Destination).toBe(entry.Destination);
    expect(out.ReplacementHeaders).toEqual([
      {
        Name: 'List-Unsubscribe',
        Value: expect.stringMatching(/^<https:\/\/mail\.example\.com\/bulk-email\/unsubscribe\/[A-Za-z0-9_.-]+>$/),
      },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
    const verified = tokens.verify(tokenOf(out.ReplacementHeaders?.[0].Value ?? ''), NOW);
    expect(verified).toEqual({
      ok: true,
      payload: {
        address: 'alice@example.com',
        jobId: 'job-1',
        principalId: 'p-1',
        expiresAt: NOW + 60 * 24 * 3600 * 1000,
      },
    });
  });

  it('adds the mailto alternative', () => {
    const out = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] } },
      { ...base, mailto: 'unsub@example.com' },
    );
    if (typeof out === 'string') throw new Error(out);
    expect(out.ReplacementHeaders?.[0].Value).toMatch(
      /^<https:[^>]+>, <mailto:unsub@example\.com\?subject=unsubscribe>$/,
    );
  });

  it('honours ttlSeconds and a trailing slash in the url', () => {
    const out = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] } },
      { ...base, url: `${base.url}/`, ttlSeconds: 60 },
    );
    if (typeof out === 'string') throw new Error(out);
    const value = out.ReplacementHeaders?.[0].Value ?? '';
    expect(value).not.toContain('unsubscribe//');
    const verified = tokens.verify(tokenOf(value), NOW);
    expect(verified.ok && verified.payload.expiresAt).toBe(NOW + 60_000);
    expect(tokens.verify(tokenOf(value), NOW + 60_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    [{ CcAddresses: ['cc@example.com'] }, 'cc@example.com'],
    [{ ToAddresses: [], BccAddresses: ['bcc@example.com'] }, 'bcc@example.com'],
    [{ ToAddresses: ['"Doe, J" <j@example.com>'] }, 'j@example.com'],
    [{ CcAddresses: ['cc@example.com'], BccAddresses: ['bcc@example.com'] }, undefined],
    [{ ToAddresses: ['a@example.com', 'b@example.com'] }, undefined],
  ])('unsubscribeAddress(%j) = %s', (destination, address) => {
    expect(unsubscribeAddress(destination)).toBe(address);
  });

  it('refuses an entry with several recipients: their one message would carry one link for all of them', () => {
    for (const Destination of [
      { ToAddresses: ['a@example.com'], CcAddresses: ['c@example.com'] },
      { ToAddresses: ['a@example.com'], BccAddresses: ['b@example.com'] },
      { ToAddresses: ['a@example.com', 'b@example.com'] },
    ]) {
      const out = unsubscribeHeaders({ Destination }, base);
      expect(out).toMatch(/^one-click unsubscribe needs exactly one recipient per entry; this one has 2/);
      expect(recipientProblem(Destination)).toBe(out);
    }
    expect(recipientProblem({ BccAddresses: ['b@example.com'] })).toBeUndefined();
  });

  it('replaces existing List-Unsubscribe headers in any case, keeps the others, does not mutate', () => {
    const headers = [
      { Name: 'X-Campaign', Value: 'spring' },
      { Name: 'list-unsubscribe', Value: '<https://old.example.com>' },
      { Name: 'LIST-UNSUBSCRIBE-POST', Value: 'List-Unsubscribe=One-Click' },
    ];
    const entry: BulkEmailEntry = { Destination: { ToAddresses: ['a@example.com'] }, ReplacementHeaders: headers };
    const snapshot = structuredClone(entry);
    const out = unsubscribeHeaders(entry, base);
    if (typeof out === 'string') throw new Error(out);
    expect(out.ReplacementHeaders?.map((h) => h.Name)).toEqual([
      'X-Campaign',
      'List-Unsubscribe',
      'List-Unsubscribe-Post',
    ]);
    expect(entry).toEqual(snapshot);
    expect(out.ReplacementHeaders).not.toBe(headers);
  });

  it('13 other headers fit (15 in all); 14 do not', () => {
    const others = (n: number) => Array.from({ length: n }, (_, i) => ({ Name: `X-H${i}`, Value: 'v' }));
    const fits = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] }, ReplacementHeaders: others(13) },
      base,
    );
    expect(typeof fits !== 'string' && fits.ReplacementHeaders).toHaveLength(15);
    const full = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] }, ReplacementHeaders: others(14) },
      base,
    );
    expect(full).toBe('the entry has 14 other ReplacementHeaders; SES allows 15 and one-click unsubscribe needs 2');
    // an old List-Unsubscribe pair does not count against the limit: it is replaced
    const replaced = unsubscribeHeaders(
      {
        Destination: { ToAddresses: ['a@example.com'] },
        ReplacementHeaders: [
          ...others(13),
          { Name: 'List-Unsubscribe', Value: 'x' },
          { Name: 'List-Unsubscribe-Post', Value: 'y' },
        ],
      },
      base,
    );
    expect(typeof replaced).toBe('object');
  });

  it('keeps the value within 980 characters (996 minus the name)', () => {
    const long = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] } },
      { ...base, principalId: 'p'.repeat(700) },
    );
    expect(long).toMatch(/^the List-Unsubscribe value would be \d+ characters, over SES's limit of 980/);
    const ok = unsubscribeHeaders(
      { Destination: { ToAddresses: ['a@example.com'] } },
      { ...base, principalId: 'p'.repeat(300) },
    );
    expect(typeof ok !== 'string' && (ok.ReplacementHeaders?.[0].Value.length ?? 0)).toBeLessThanOrEqual(980);
  });

  it('refuses characters SES does not allow in a header', () => {
    expect(
      unsubscribeHeaders(
        { Destination: { ToAddresses: ['a@example.com'] } },
        { ...base, url: 'https://exämple.com/u' },
      ),
    ).toMatch(/characters SES does not allow/);
  });

  it('needs a recipient', () => {
    expect(unsubscribeHeaders({ Destination: {} }, base)).toBe('the entry has no recipient to unsubscribe');
  });

  it('stripUnsubscribeHeaders drops both names in any case and keeps the array when nothing changes', () => {
    const keep = [{ Name: 'X-A', Value: '1' }];
    expect(stripUnsubscribeHeaders(keep)).toBe(keep);
    expect(stripUnsubscribeHeaders(undefined)).toBeUndefined();
    expect(
      stripUnsubscribeHeaders([
        ...keep,
        { Name: 'List-unsubscribe', Value: 'x' },
        { Name: 'list-unsubscribe-post', Value: 'y' },
      ]),
    ).toEqual(keep);
  });

  it('performance (printed): 10,000 entries', () => {
    const entries = Array.from(
      { length: 10_000 },
      (_, i): BulkEmailEntry => ({ Destination: { ToAddresses: [`user${i}@example.com`] } }),
    );
    const t = performance.now();
    for (const e of entries) unsubscribeHeaders(e, base);
    const ms = performance.now() - t;
    console.log(
      `unsubscribeHeaders: 10000 entries in ${ms.toFixed(1)} ms (${((ms * 1000) / 10_000).toFixed(2)} µs/entry)`,
    );
  });
});
