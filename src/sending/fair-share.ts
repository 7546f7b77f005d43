// Fair share of the send rate between principals (pure): start-time fair queueing over recipients, with weights.

/*
 * The algorithm (start-time fair queueing, counted in recipients). The Redis queue runs the same steps in Lua.
 *
 * State: virtualTime  V, the start tag of the call served last (never decreases)
 *        principals   per principal: vtime (its finish tag so far) and weight
 *        active       the principals that had ready work at the last pick
 *
 * pick(ready) — `ready` maps each principal with ready work to its weight (the latest given wins):
 *     a principal that just became ready starts at vtime = max(its vtime, V): it cannot bank credit while idle,
 *     and it is not made to wait for what others were served while it was away;
 *     a principal no longer ready leaves `active` and is forgotten (what it may still owe is at most the one call
 *     it was last served, since it was picked at vtime ≤ V: forgetting it keeps memory bounded by active principals);
 *     the ready principal with the smallest vtime goes next (ties: the first in `ready`'s order).
 * charge(id, k) after serving k recipients of it: V = its vtime; its vtime += k / weight.
 *
 * So while n principals have work, each gets rate × weight / Σ weights, to within one call; a principal alone gets
 * the whole rate; an idle principal's share goes to the others at once (it is simply not picked). Within a
 * principal, the queue serves its jobs in creation order.
 */

export interface PrincipalShare {
  vtime: number;
  weight: number;
}

export interface FairShareState {
  virtualTime: number;
  principals: Map<string, PrincipalShare>;
  active: Set<string>;
}

export function fairShareState(): FairShareState {
  return { virtualTime: 0, principals: new Map(), active: new Set() };
}

/** Weights are kept within these bounds (so that k / weight stays a sane number of recipients). */
export const MIN_WEIGHT = 0.001;
export const MAX_WEIGHT = 1000;

/** True for what a weight may be: a positive finite number. */
export function isWeight(weight: unknown): weight is number {
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0;
}

/** Keeps only what matters: a positive finite number, clamped to [MIN_WEIGHT, MAX_WEIGHT] (anything else counts as 1). */
export function shareWeight(weight: number | undefined): number {
  return isWeight(weight) ? Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, weight)) : 1;
}

/** The principal to serve next among `ready` (principal → weight), or undefined when none is ready. */
export function pickPrincipal(state: FairShareState, ready: ReadonlyMap<string, number>): string | undefined {
  for (const id of state.active) {
    if (ready.has(id)) continue;
    state.active.delete(id);
    state.principals.delete(id);
  }
  let best: string | undefined;
  let bestVtime = Number.POSITIVE_INFINITY;
  for (const [id, weight] of ready) {
    let share = state.principals.get(id);
    if (!share) {
      share = { vtime: state.virtualTime, weight };
      state.principals.set(id, share);
    }
    share.weight = shareWeight(weight);
    if (!state.active.has(id)) {
      state.active.add(id);
      share.vtime = Math.max(share.vtime, state.virtualTime);
    }
    if (share.vtime < bestVtime) {
      best = id;
      bestVtime = share.vtime;
    }
  }
  return best;
}

/** Records that `recipients` of principal `id` were just handed out. */
export function chargePrincipal(state: FairShareState, id: string, recipients: number): void {
  const share = state.principals.get(id);
  if (!share) return;
  state.virtualTime = Math.max(state.virtualTime, share.vtime);
  share.vtime += Math.max(0, recipients) / share.weight;
}
