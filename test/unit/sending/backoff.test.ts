// Unit tests: full-jitter backoff bounds.
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/sending/backoff.js';

describe('backoffDelay', () => {
  it('is random × min(cap, base × 2^(attempt − 1))', () => {
    const top = () => 0.999999;
    expect(backoffDelay(1, DEFAULT_BACKOFF, top)).toBe(199);
    expect(backoffDelay(2, DEFAULT_BACKOFF, top)).toBe(399);
    expect(backoffDelay(5, DEFAULT_BACKOFF, top)).toBe(3199);
    expect(backoffDelay(7, DEFAULT_BACKOFF, top)).toBe(12799);
    expect(backoffDelay(8, DEFAULT_BACKOFF, top)).toBe(19999); // capped
    expect(backoffDelay(1000, DEFAULT_BACKOFF, top)).toBe(19999);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(400);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
  });

  it('stays within [0, min(cap, base × 2^(attempt − 1))] for every attempt', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(20_000, 200 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it('uses the given base and cap; attempt 0 or less counts as the first', () => {
    const opts = { baseDelayMs: 10, maxDelayMs: 50 };
    expect(backoffDelay(1, opts, () => 0.99)).toBe(9);
    expect(backoffDelay(4, opts, () => 0.99)).toBe(49);
    expect(backoffDelay(0, opts, () => 0.99)).toBe(9);
  });
});
