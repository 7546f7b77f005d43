// Standard Webhooks signing checked against the reference library, the retry schedule, and the option resolver.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  nextRetryDelay,
  parseRetryAfter,
  RETRY_WINDOW_MS,
} from '../../../src/webhooks/retry-schedule.js';
import { secretKeys, signWebhook } from '../../../src/webhooks/signature.js';
import { resolveWebhookOptions } from '../../../src/webhooks/webhook-options.js';

describe('signWebhook', () => {
  it('matches the standardwebhooks reference signature for whsec_ and raw secrets', () => {
    const raw = randomBytes(32);
    const whsec = `whsec_${raw.toString('base64')}`;
    const at = new Date('2026-12-01T10:00:00Z');
    const body = JSON.stringify({ type: 'job.completed', timestamp: at.toISOString(), data: { id: 'j' } });
    const expected = new Webhook(whsec).sign('msg_1', at, body);
    expect(signWebhook(secretKeys(whsec), 'msg_1', at.getTime() / 1000, body)).toBe(expected);
    expect(signWebhook(secretKeys(new Uint8Array(raw)), 'msg_1', at.getTime() / 1000, body)).toBe(expected);
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64')],
    ['not base64', 'whsec_not base64!'],
    ['too short', `whsec_${randomBytes(8).toString('base64')}`],
    ['too long', `whsec_${randomBytes(65).toString('base64')}`],
    ['empty list', []],
  ])('refuses a secret with %s', (_what, secret) => {
    expect(() => secretKeys(secret as string)).toThrow(TypeError);
  });
});

describe('nextRetryDelay', () => {
  const mid = () => 0.5;
  it('default: 5 s × 4ⁿ capped at 12 h, within ±20 %', () => {
    expect([1, 2, 3, 4, 8, 9, 12].map((n) => nextRetryDelay(n, 0, null, mid))).toEqual([
      5_000,
      20_000,
      80_000,
      320_000,
      12 * 3_600_000,
      12 * 3_600_000,
      12 * 3_600_000,
    ]);
    expect(nextRetryDelay(1, 0, null, () => 0)).toBe(4_000);
    expect(nextRetryDelay(1, 0, null, () => 1)).toBe(6_000);
  });

  it('default: gives up when the next attempt would fall beyond 3 days after the event', () => {
    let elapsed = 0;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const delay = nextRetryDelay(attempts, elapsed, null, mid);
      if (delay === null) break;
      elapsed += delay;
    }
    expect(elapsed).toBeLessThanOrEqual(RETRY_WINDOW_MS);
    expect(elapsed).toBeGreaterThan(RETRY_WINDOW_MS - 12 * 3_600_000);
    expect(attempts).toBe(13); // 12 retries after the first attempt
  });

  it('a given list is used exactly, then gives up', () => {
    expect([1, 2, 3].map((n) => nextRetryDelay(n, 0, [100, 0], Math.random))).toEqual([100, 0, null]);
    expect(nextRetryDelay(1, 10 * RETRY_WINDOW_MS, [100], Math.random)).toBe(100);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  it('reads seconds and HTTP dates, bounded to [0, 6 h]', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999', now)).toBe(MAX_RETRY_AFTER_MS);
  });
  it('ignores what it cannot read', () => {
    for (const value of [undefined, '', 'soon', '-5', '1.5', 'x'.repeat(100)])
      expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('resolveWebhookOptions', () => {
  const endpoint = () => null;
  it('defaults: every event, the default schedule, private targets refused', () => {
    const config = resolveWebhookOptions({ endpoint })!;
    expect([...config.events]).toHaveLength(6);
    expect(config.retryDelaysMs).toBeNull();
    expect(config.allowPrivate).toBe(false);
    expect(resolveWebhookOptions(undefined)).toBeUndefined();
  });

  it.each([
    [null, /must be an object/],
    [[], /must be an object/],
    [{}, /webhooks.endpoint is required/],
    [{ endpoint: 'https://x' }, /webhooks.endpoint is required/],
    [{ endpoint, url: 'x' }, /unknown option "webhooks.url"/],
    [{ endpoint, events: [] }, /non-empty list/],
    [{ endpoint, events: ['job.done'] }, /unknown event type "job.done"/],
    [{ endpoint, retryDelaysMs: 1000 }, /list of at most/],
    [{ endpoint, retryDelaysMs: [1000, -1] }, /non-negative finite/],
    [{ endpoint, retryDelaysMs: [Number.NaN] }, /non-negative finite/],
    [{ endpoint, allowPrivate: 'yes' }, /true or false/],
  ])('refuses %j at build time', (value, message) => {
    expect(() => resolveWebhookOptions(value as never)).toThrow(TypeError);
    expect(() => resolveWebhookOptions(value as never)).toThrow(message);
  });
});
