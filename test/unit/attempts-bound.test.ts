// One attempts bound for both stores (the memory store keeps a byte per entry) and the retry.attempts option; the
// store contract (memory and Redis) checks that 255 is recorded exactly.
import { describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { MAX_ATTEMPTS, clampAttempts } from '../../src/stores/entry-codes.js';

describe('the attempts bound', () => {
  it('clamps to a whole number in 0 … MAX_ATTEMPTS (255)', () => {
    expect(MAX_ATTEMPTS).toBe(255);
    expect([-1, 0, 1.9, 6, 255, 256, 1e9, Number.NaN].map(clampAttempts)).toEqual([0, 0, 1, 6, 255, 255, 255, 0]);
  });

  it('retry.attempts may not exceed it', () => {
    const base = { authenticate: () => ({ id: 'a' }), sendRate: 1 };
    expect(() => bulkEmail({ ...base, retry: { attempts: 256 } })).toThrow(/retry.attempts" may be at most 255/);
    const router = bulkEmail({ ...base, retry: { attempts: 255 } });
    return router.close();
  });
});
