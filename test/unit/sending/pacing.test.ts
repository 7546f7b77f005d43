// Unit tests: the shared pacing rule — k/R spacing, the lookahead, the 1-second bound, an SES-metered endpoint, penalties.
import { describe, expect, it } from 'vitest';
import {
  INITIAL_PACING,
  PACING_TUNING,
  type PacingState,
  assertRate,
  effectiveRate,
  penalize,
  takeSlot,
} from '../../../src/sending/pacing.js';

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

interface Send {
  at: number;
  n: number;
}

/** The most recipients whose send times fall in any window [t, t + 1000) (1e-6 ms slack for float rounding). */
function busiestSecond(sends: Send[]): number {
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

/** An endpoint metered as SES meters: a budget of `rate` recipients refilling at rate/s; a call passes while ≥ 1 is left. */
function sesMeter(rate: number) {
  let budget = rate;
  let last = Number.NEGATIVE_INFINITY;
  let throttled = 0;
  return {
    call(at: number, n: number): boolean {
      budget = Math.min(rate, budget + (Number.isFinite(last) ? ((at - last) * rate) / 1000 : rate));
      last = at;
      if (budget < 1 - 1e-9) {
        throttled++;
        return false;
      }
      budget -= n;
      return true;
    },
    get throttled() {
      return throttled;
    },
  };
}

/** Takers ask at random times (back to back, or after idle gaps), each for 1..maxCall recipients, and send at their slot. */
function simulate(rate: number, { calls = 3000, maxCall = 50, seed = 1 } = {}) {
  const random = prng(seed);
  let state: PacingState = { ...INITIAL_PACING };
  const sends: Send[] = [];
  let now = 1_000_000;
  for (let i = 0; i < calls; i++) {
    now += random() < 0.05 ? Math.floor(random() * 5000) : Math.floor(random() * 5);
    const n = 1 + Math.floor(random() * maxCall);
    for (;;) {
      const slot = takeSlot(rate, state, now, n);
      if (slot.ok) {
        state = slot.state;
        expect(slot.startAt - now).toBeLessThanOrEqual(200);
        sends.push({ at: slot.startAt, n });
        break;
      }
      expect(slot.retryAt).toBeGreaterThan(now);
      now = slot.retryAt;
    }
  }
  return sends;
}

describe('takeSlot: k/R spacing within the lookahead', () => {
  it('moves the schedule by k / R per call and refuses a call whose slot is beyond the lookahead', () => {
    const steps: Array<[now: number, k: number, expected: { startAt: number } | { retryAt: number }]> = [
      [0, 50, { startAt: 0 }], // R = 200/s: a 50-recipient call takes 250 ms of the schedule
      [0, 50, { retryAt: 50 }], // its slot is at 250: beyond 200 ms of lookahead
      [50, 50, { startAt: 250 }],
      [100, 10, { retryAt: 300 }],
      [300, 10, { startAt: 500 }],
      [2000, 1, { startAt: 2000 }], // idle: no banked burst, just "now"
      [2000, 0, { startAt: 2005 }], // 0 recipients waits for the schedule but does not move it
    ];
    let state: PacingState = { ...INITIAL_PACING };
    for (const [now, k, expected] of steps) {
      const out = takeSlot(200, state, now, k);
      if ('startAt' in expected) {
        expect(out).toMatchObject({ ok: true, startAt: expected.startAt });
        if (out.ok) state = out.state;
      } else expect(out).toEqual({ ok: false, retryAt: expected.retryAt });
    }
    expect(state.tat).toBe(2005);
  });

  for (const rate of [1, 3, 14, 50, 200, 1000, 5000]) {
    it(`rate ${rate}/s: any 1-second window ≤ R + one call, and an SES-metered endpoint never throttles`, () => {
      const sends = simulate(rate, { seed: rate });
      expect(busiestSecond(sends)).toBeLessThanOrEqual(rate + 50);
      const meter = sesMeter(rate);
      for (const s of sends) meter.call(s.at, s.n);
      expect(meter.throttled).toBe(0);
    });
  }

  it('holds the long-run average at the rate, with full 50-recipient calls at 14/s', () => {
    const sends = simulate(14, { calls: 500, maxCall: 50, seed: 3 }).filter((s) => s.n > 0);
    const busy = sends.slice(0, 100);
    const total = busy.slice(0, -1).reduce((n, s) => n + s.n, 0);
    const span = (busy[busy.length - 1].at - busy[0].at) / 1000;
    expect(total / span).toBeLessThanOrEqual(14 * 1.001);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => assertRate(rate, 'test')).toThrow(TypeError);
    }
  });
});

describe('penalize and recovery', () => {
  it('halves the effective rate, spacing later calls twice as far', () => {
    const state = penalize(100, INITIAL_PACING, 0);
    expect(effectiveRate(100, state, 0)).toBe(50);
    const first = takeSlot(100, state, 0, 5);
    expect(first.ok && first.state.tat).toBe(100);
  });

  const table: Array<[string, number[], number, number]> = [
    // [case, penalties at (ms), read at (ms), effective rate of R = 100]
    ['one penalty', [0], 0, 50],
    ['a burst within one second counts once', [0, 0, 500], 500, 55],
    ['recovers 10 % of R per second', [0], 1000, 60],
    ['… up to R', [0], 10_000, 100],
    ['halves from the partly recovered rate', [0, 1000], 1000, 30],
  ];
  for (const [name, at, readAt, expected] of table) {
    it(name, () => {
      let state: PacingState = { ...INITIAL_PACING };
      for (const t of at) state = penalize(100, state, t);
      expect(effectiveRate(100, state, readAt)).toBeCloseTo(expected);
    });
  }

  it('never goes below 10 % of R', () => {
    let state: PacingState = { ...INITIAL_PACING };
    const eager = { ...PACING_TUNING, penaltyWindowMs: 0 };
    for (let i = 0; i < 10; i++) state = penalize(100, state, 0, eager);
    expect(effectiveRate(100, state, 0)).toBe(10);
  });

  it('a lower configured rate than the penalized one wins', () => {
    const state = penalize(100, INITIAL_PACING, 0);
    expect(effectiveRate(40, state, 0)).toBe(40);
  });
});
