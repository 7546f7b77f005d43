// Unit tests: the GCRA recipient limiter — spacing, the 1-second window bound, penalties and recovery, setRate.
import { describe, expect, it } from 'vitest';
import {
  burstFor,
  effectiveRate,
  INITIAL_GCRA_STATE,
  memoryRateLimiter,
  penalizeState,
  reserveSlot,
} from '../../../src/sending/rate-limiter.js';
import { fakeClock } from '../../helpers/fake-clock.js';

/** A seeded PRNG so the property-style runs are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The most recipients whose send times fall in any window [t, t + 1000) (1e-6 ms slack for float rounding). */
function busiestSecond(sends: Array<{ at: number; n: number }>): number {
  const sorted = [...sends].sort((a, b) => a.at - b.at);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    sum += sorted[hi].n;
    while (sorted[hi].at - sorted[lo].at >= 1000 - 1e-6) sum -= sorted[lo++].n;
    best = Math.max(best, sum);
  }
  return best;
}

/** Callers ask at random times in bursts, each for 1..maxBurst recipients, and send when told (plus jitter). */
async function simulate(rate: number, { calls = 3000, jitterMs = 0, seed = 1 } = {}) {
  const clock = fakeClock(1_000_000);
  const limiter = memoryRateLimiter({ rate, clock });
  const random = prng(seed);
  const sends: Array<{ at: number; n: number }> = [];
  let asked = clock.now();
  for (let i = 0; i < calls; i++) {
    // Mostly back-to-back, sometimes a pause long enough for the schedule to go idle.
    asked += random() < 0.05 ? Math.floor(random() * 3000) : Math.floor(random() * 5);
    const burst = limiter.maxBurst();
    const n = 1 + Math.floor(random() * burst);
    await clock.advance(Math.max(0, asked - clock.now()));
    const wait = await limiter.reserve(n);
    sends.push({ at: clock.now() + wait + random() * jitterMs, n });
  }
  return { limiter, sends };
}

describe('memoryRateLimiter: spacing', () => {
  it('gives each reservation the next slot, spaced n / rate seconds, without polling', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    expect(await limiter.reserve(5)).toBe(0);
    expect(await limiter.reserve(5)).toBe(50);
    expect(await limiter.reserve(2)).toBe(100);
    expect(await limiter.reserve(1)).toBe(120);
    await clock.advance(60);
    expect(await limiter.reserve(1)).toBe(70); // slot at 130
    await clock.advance(1000);
    expect(await limiter.reserve(3)).toBe(0); // idle: no banked burst, just "now"
    expect(await limiter.reserve(3)).toBe(30);
  });

  it('reserving 0 recipients waits for the schedule but does not move it', async () => {
    const limiter = memoryRateLimiter({ rate: 10, clock: fakeClock(0) });
    await limiter.reserve(1);
    expect(await limiter.reserve(0)).toBe(100);
    expect(await limiter.reserve(1)).toBe(100);
  });

  it('maxBurst is max(1, floor(5% of the effective rate))', () => {
    const clock = fakeClock(0);
    expect(memoryRateLimiter({ rate: 1, clock }).maxBurst()).toBe(1);
    expect(memoryRateLimiter({ rate: 14, clock }).maxBurst()).toBe(1);
    expect(memoryRateLimiter({ rate: 40, clock }).maxBurst()).toBe(2);
    expect(memoryRateLimiter({ rate: 100, clock }).maxBurst()).toBe(5);
    expect(memoryRateLimiter({ rate: 1000, clock }).maxBurst()).toBe(50);
    expect(memoryRateLimiter({ rate: 0.5, clock }).maxBurst()).toBe(1);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => memoryRateLimiter({ rate, clock: fakeClock() })).toThrow(TypeError);
    }
    expect(() => memoryRateLimiter({ rate: 1, clock: fakeClock() }).setRate(0)).toThrow(TypeError);
  });
});

describe('memoryRateLimiter: every 1-second window holds at most 1.1 × rate', () => {
  for (const rate of [1, 3, 14, 50, 100, 333, 1000, 5000]) {
    it(`rate ${rate}/s, mixed sizes up to maxBurst, bursts and idle gaps`, async () => {
      const { sends } = await simulate(rate, { seed: rate });
      expect(busiestSecond(sends)).toBeLessThanOrEqual(1.1 * rate);
    });
  }

  for (const rate of [100, 1000, 5000]) {
    it(`rate ${rate}/s with up to 40 ms of wake-up jitter per call`, async () => {
      const { sends } = await simulate(rate, { seed: rate + 7, jitterMs: 40 });
      expect(busiestSecond(sends)).toBeLessThanOrEqual(1.1 * rate);
    });
  }

  it('holds the long-run average at the rate', async () => {
    const { sends } = await simulate(200, { calls: 4000, seed: 3 });
    const total = sends.reduce((n, s) => n + s.n, 0);
    const span = (sends[sends.length - 1].at - sends[0].at) / 1000;
    expect(total / span).toBeLessThanOrEqual(200 * 1.01);
  });
});

describe('memoryRateLimiter: penalize and recovery', () => {
  it('halves the effective rate, spacing later reservations twice as far', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    await limiter.penalize();
    expect(limiter.effectiveRate()).toBe(50);
    expect(limiter.rate).toBe(100);
    expect(limiter.maxBurst()).toBe(2);
    expect(await limiter.reserve(5)).toBe(0);
    expect(await limiter.reserve(5)).toBe(100);
  });

  it('counts a burst of penalties within one second once', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    await limiter.penalize();
    await limiter.penalize();
    await clock.advance(500);
    await limiter.penalize();
    expect(limiter.effectiveRate()).toBe(55); // 50 + 10 %/s × 0.5 s
  });

  it('recovers by 10 % of the configured rate per second, up to the configured rate', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    await limiter.penalize();
    await clock.advance(1000);
    expect(limiter.effectiveRate()).toBeCloseTo(60);
    await clock.advance(2000);
    expect(limiter.effectiveRate()).toBeCloseTo(80);
    await clock.advance(10_000);
    expect(limiter.effectiveRate()).toBe(100);
  });

  it('halves from the partly recovered rate and never goes below 10 % of the configured rate', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    await limiter.penalize(); // 50
    await clock.advance(1000);
    await limiter.penalize(); // (50 + 10) / 2
    expect(limiter.effectiveRate()).toBeCloseTo(30);
    const eager = memoryRateLimiter({ rate: 100, clock, tuning: { penaltyWindowMs: 0 } });
    for (let i = 0; i < 10; i++) await eager.penalize();
    expect(eager.effectiveRate()).toBe(10);
  });
});

describe('memoryRateLimiter: setRate', () => {
  it('changes the spacing of later reservations and maxBurst', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 10, clock });
    expect(await limiter.reserve(1)).toBe(0);
    limiter.setRate(100);
    expect(limiter.rate).toBe(100);
    expect(limiter.maxBurst()).toBe(5);
    expect(await limiter.reserve(1)).toBe(100); // the earlier slot still ends at 100 ms
    expect(await limiter.reserve(1)).toBe(110);
  });

  it('keeps a running penalty when the same rate is set again (the account rate refresh)', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter({ rate: 100, clock });
    await limiter.penalize();
    limiter.setRate(100);
    expect(limiter.effectiveRate()).toBe(50);
    limiter.setRate(40); // below the penalized rate: the new ceiling wins
    expect(limiter.effectiveRate()).toBe(40);
  });
});

describe('GCRA pure functions (mirrored by the Redis limiter)', () => {
  it('reserveSlot: start = max(now, tat), tat += n × 1000 / rate', () => {
    let state = { ...INITIAL_GCRA_STATE };
    let out = reserveSlot(20, state, 1000, 4);
    expect(out).toEqual({ state: { ...state, tat: 1200 }, waitMs: 0 });
    state = out.state;
    out = reserveSlot(20, state, 1050, 2);
    expect(out).toEqual({ state: { ...state, tat: 1300 }, waitMs: 150 });
  });

  it('effectiveRate, penalizeState and burstFor', () => {
    const s = penalizeState(200, INITIAL_GCRA_STATE, 5000);
    expect(s).toMatchObject({ penaltyRate: 100, penaltyAt: 5000 });
    expect(effectiveRate(200, s, 5000)).toBe(100);
    expect(effectiveRate(200, s, 7500)).toBe(150);
    expect(effectiveRate(200, s, 60_000)).toBe(200);
    expect(penalizeState(200, s, 5999)).toBe(s);
    expect(burstFor(19.9)).toBe(1);
    expect(burstFor(200)).toBe(10);
  });
});
