// memoryRateLimiter(): a reservation-based GCRA recipient limiter for one process, plus the pure math the Redis one mirrors.
import type { RateLimiter, RateLimiterOptions } from '../types.js';
import { systemClock } from './clock.js';

/*
 * The algorithm (GCRA with reservations; all times in ms, rates in recipients per second). The Redis limiter runs
 * the same steps in Lua on one hash, so every worker shares one schedule.
 *
 * State: tat          theoretical arrival time: when the schedule is next free (starts at 0)
 *        penaltyRate  the rate set by the last penalty (0 = never penalized)
 *        penaltyAt    when that penalty happened
 *
 * effectiveRate(now) = rate                                                  if penaltyRate = 0
 *                    = min(rate, penaltyRate + recovery × rate × (now − penaltyAt) / 1000)   otherwise
 *     (recovery = 0.1: the rate climbs back by 10 % of the configured rate per second without throttling)
 *
 * reserve(n) at now:  start = max(now, tat)
 *                     tat   = start + n × 1000 / effectiveRate(now)
 *                     return wait = start − now           (the caller sleeps that long, then sends n recipients)
 *     Every reservation gets the next free slot and pushes the schedule by its own length; nobody polls.
 *
 * maxBurst() = max(1, floor(0.05 × effectiveRate(now))): the largest call the dispatcher builds.
 *     Why ≤ 1.1 × rate per 1-s window: a call of n recipients starting at s is followed by n/rate s in which nothing
 *     else starts, so the calls starting inside any 1-s window carry at most rate + (last call) ≤ 1.05 × rate
 *     recipients; the other 0.05 × rate absorbs timer jitter (a call that wakes up to 50 ms late).
 *     (An entry with more recipients than maxBurst still goes alone in one call; over a longer window it is paced.)
 *
 * penalize() at now: ignored if penaltyRate > 0 and now − penaltyAt < penaltyWindowMs (1 s: the calls already in
 *     flight were all paced at the old rate, so a burst of throttles counts once); else
 *     penaltyRate = max(minFraction × rate, effectiveRate(now) / 2) with minFraction = 0.1, penaltyAt = now.
 */

export interface GcraState {
  tat: number;
  penaltyRate: number;
  penaltyAt: number;
}

export interface GcraTuning {
  /** Fraction of the configured rate regained per second after a penalty. Default 0.1. */
  recoveryPerSecond: number;
  /** Lowest effective rate, as a fraction of the configured one. Default 0.1. */
  minFraction: number;
  /** Penalties closer together than this count once. Default 1,000 ms. */
  penaltyWindowMs: number;
  /** maxBurst as a fraction of the effective rate. Default 0.05. */
  burstFraction: number;
}

export const DEFAULT_GCRA_TUNING: Readonly<GcraTuning> = Object.freeze({
  recoveryPerSecond: 0.1,
  minFraction: 0.1,
  penaltyWindowMs: 1000,
  burstFraction: 0.05,
});

export const INITIAL_GCRA_STATE: Readonly<GcraState> = Object.freeze({ tat: 0, penaltyRate: 0, penaltyAt: 0 });

export function effectiveRate(
  rate: number,
  state: GcraState,
  now: number,
  tuning: GcraTuning = DEFAULT_GCRA_TUNING,
): number {
  if (!(state.penaltyRate > 0)) return rate;
  const recovered = state.penaltyRate + (tuning.recoveryPerSecond * rate * Math.max(0, now - state.penaltyAt)) / 1000;
  return Math.min(rate, recovered);
}

/** One reservation: the new state and how long the caller waits before sending `recipients`. */
export function reserveSlot(
  rate: number,
  state: GcraState,
  now: number,
  recipients: number,
  tuning: GcraTuning = DEFAULT_GCRA_TUNING,
): { state: GcraState; waitMs: number } {
  const start = Math.max(now, state.tat);
  const spacing = (Math.max(0, recipients) * 1000) / effectiveRate(rate, state, now, tuning);
  return { state: { ...state, tat: start + spacing }, waitMs: start - now };
}

export function penalizeState(
  rate: number,
  state: GcraState,
  now: number,
  tuning: GcraTuning = DEFAULT_GCRA_TUNING,
): GcraState {
  if (state.penaltyRate > 0 && now - state.penaltyAt < tuning.penaltyWindowMs) return state;
  const halved = Math.max(tuning.minFraction * rate, effectiveRate(rate, state, now, tuning) / 2);
  return { ...state, penaltyRate: halved, penaltyAt: now };
}

export function burstFor(effective: number, tuning: GcraTuning = DEFAULT_GCRA_TUNING): number {
  return Math.max(1, Math.floor(tuning.burstFraction * effective));
}

export function assertRate(rate: number, who: string): void {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new TypeError(`${who}: rate must be a positive number of recipients per second (got ${String(rate)})`);
  }
}

export interface MemoryRateLimiter extends RateLimiter {
  /** The rate in force now: the configured one, or less while recovering from a penalty. */
  effectiveRate(): number;
}

export interface MemoryRateLimiterOptions extends RateLimiterOptions {
  tuning?: Partial<GcraTuning>;
}

/** A limiter for one process. `rate` reads the configured rate; `effectiveRate()` what is in force after penalties. */
export function memoryRateLimiter(options: MemoryRateLimiterOptions): MemoryRateLimiter {
  assertRate(options.rate, 'memoryRateLimiter');
  const clock = options.clock ?? systemClock();
  const tuning: GcraTuning = { ...DEFAULT_GCRA_TUNING, ...options.tuning };
  let rate = options.rate;
  let state: GcraState = { ...INITIAL_GCRA_STATE };

  return {
    get rate() {
      return rate;
    },
    effectiveRate: () => effectiveRate(rate, state, clock.now(), tuning),
    async reserve(recipients) {
      const out = reserveSlot(rate, state, clock.now(), recipients, tuning);
      state = out.state;
      return out.waitMs;
    },
    maxBurst: () => burstFor(effectiveRate(rate, state, clock.now(), tuning), tuning),
    async penalize() {
      state = penalizeState(rate, state, clock.now(), tuning);
    },
    setRate(next) {
      assertRate(next, 'setRate');
      rate = next;
    },
    async close() {},
  };
}
