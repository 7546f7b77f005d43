// The shared pacing rule (pure): when the next SES call may leave, and how a throttle slows every sender down.

/*
 * The algorithm (all times in ms, rates in recipients per second). The in-process queue keeps one state; the Redis
 * queue runs the same steps in Lua on one hash, so every worker shares one schedule.
 *
 * State: tat          theoretical arrival time: when the schedule is next free (starts at 0)
 *        penaltyRate  the rate set by the last penalty (0 = never penalized)
 *        penaltyAt    when that penalty happened
 *
 * effectiveRate(now) = rate                                                                 if penaltyRate = 0
 *                    = min(rate, penaltyRate + recovery × rate × (now − penaltyAt) / 1000)     otherwise
 *     (recovery = 0.1: the rate climbs back by 10 % of the configured rate per second without throttling)
 *
 * take(k) at now:     start = max(now, tat)
 *                     if start > now + lookahead: refused (nothing changes; ask again at start − lookahead)
 *                     else tat = start + k × 1000 / effectiveRate(now); the call leaves at `start`
 *     A call of k recipients moves the shared schedule by k / R: calls are full (up to 50 entries) at every rate,
 *     and a taker never holds a call it cannot start within the lookahead (≈ 200 ms), so every sender takes part.
 *
 * The bound. Calls leave at their slots s_1 ≤ s_2 ≤ …, with s_(i+1) ≥ s_i + k_i / R. The calls that start inside
 * any window [t, t + 1 s) are some s_a … s_b with s_b − s_a < 1 s, so k_a + … + k_(b−1) < R, and they carry fewer
 * than R + k_b recipients: **any 1-second window ≤ R + one call's recipients; the average ≤ R**. That is how SES
 * meters (a budget of R recipients refilling at R/s; a call is accepted while any budget is left, all its
 * recipients counted): the schedule never spends faster than the budget refills, so such an endpoint never
 * throttles it. An idle schedule banks nothing: `start = max(now, tat)` restarts it at `now`.
 *
 * penalize() at now: ignored if penaltyRate > 0 and now − penaltyAt < penaltyWindow (1 s: the calls already in
 *     flight were all paced at the old rate, so a burst of throttles counts once); else
 *     penaltyRate = max(minFraction × rate, effectiveRate(now) / 2) with minFraction = 0.1, penaltyAt = now.
 */

export interface PacingState {
  tat: number;
  penaltyRate: number;
  penaltyAt: number;
}

export interface PacingTuning {
  /** Fraction of the configured rate regained per second after a penalty. */
  recoveryPerSecond: number;
  /** Lowest effective rate, as a fraction of the configured one. */
  minFraction: number;
  /** Penalties closer together than this count once. */
  penaltyWindowMs: number;
  /** How far ahead of its slot a call may be taken. */
  lookaheadMs: number;
}

export const PACING_TUNING: Readonly<PacingTuning> = Object.freeze({
  recoveryPerSecond: 0.1,
  minFraction: 0.1,
  penaltyWindowMs: 1000,
  lookaheadMs: 200,
});

export const INITIAL_PACING: Readonly<PacingState> = Object.freeze({ tat: 0, penaltyRate: 0, penaltyAt: 0 });

export type Take =
  /** The call leaves at `startAt` (≤ now + lookahead); `state` is the schedule after it. */
  | { ok: true; startAt: number; state: PacingState }
  /** The schedule is busy beyond the lookahead: ask again at `retryAt`. */
  | { ok: false; retryAt: number };

export function effectiveRate(
  rate: number,
  state: PacingState,
  now: number,
  tuning: PacingTuning = PACING_TUNING,
): number {
  if (!(state.penaltyRate > 0)) return rate;
  const recovered = state.penaltyRate + (tuning.recoveryPerSecond * rate * Math.max(0, now - state.penaltyAt)) / 1000;
  return Math.min(rate, recovered);
}

/** A call of `recipients` at `now`: its slot, or when to ask again. */
export function takeSlot(
  rate: number,
  state: PacingState,
  now: number,
  recipients: number,
  tuning: PacingTuning = PACING_TUNING,
): Take {
  const start = Math.max(now, state.tat);
  if (start - now > tuning.lookaheadMs) return { ok: false, retryAt: start - tuning.lookaheadMs };
  const spacing = (Math.max(0, recipients) * 1000) / effectiveRate(rate, state, now, tuning);
  return { ok: true, startAt: start, state: { ...state, tat: start + spacing } };
}

export function penalize(
  rate: number,
  state: PacingState,
  now: number,
  tuning: PacingTuning = PACING_TUNING,
): PacingState {
  if (state.penaltyRate > 0 && now - state.penaltyAt < tuning.penaltyWindowMs) return state;
  const halved = Math.max(tuning.minFraction * rate, effectiveRate(rate, state, now, tuning) / 2);
  return { ...state, penaltyRate: halved, penaltyAt: now };
}

export function assertRate(rate: number, who: string): void {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new TypeError(`${who}: rate must be a positive number of recipients per second (got ${String(rate)})`);
  }
}
