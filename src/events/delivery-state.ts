// mergeDelivery(): the pure rule folding SES events into one entry's delivery state — order-free and idempotent.
import type { DeliveryDetail, DeliveryStatus, DeliveryUpdate } from './ses-event.js';

/** One entry's delivery state, as a store keeps it (JSON-safe). */
export interface DeliveryState {
  status?: DeliveryStatus;
  /** When the event behind `status` happened (ISO 8601 UTC). */
  at?: string;
  detail?: DeliveryDetail;
  /** The key of the event behind `status` (breaks ties between events of the same time). */
  statusKey?: string;
  opened: number;
  clicked: number;
  /** Keys of the last events merged (at most MAX_REMEMBERED_EVENTS): a repeat of one of them changes nothing. */
  keys: string[];
}

export interface MergeOutcome {
  state: DeliveryState;
  /** The event was merged before: nothing changed, and nothing must be counted again (guard, webhooks). */
  duplicate: boolean;
  /** `status`, `at` or `detail` changed (the entry's delivery as shown changed). */
  statusChanged: boolean;
}

/**
 * Events remembered per entry. An entry sees a handful of events (send, delivery, a few opens); past this many, a
 * repeat of one of the oldest could count an open or click twice — never change a status wrongly, which needs no
 * memory (see `outranks`).
 */
export const MAX_REMEMBERED_EVENTS = 32;

export const EMPTY_DELIVERY: DeliveryState = Object.freeze({ opened: 0, clicked: 0, keys: [] }) as DeliveryState;

/** A bounce or complaint is never replaced by a later delivery, delay or anything else. */
const STICKY: ReadonlySet<DeliveryStatus> = new Set(['BOUNCED', 'COMPLAINED']);

/** Tie-break between events stamped the same millisecond: the more final outcome wins. */
const RANK: Record<DeliveryStatus, number> = {
  DELAYED: 1,
  DELIVERED: 2,
  RENDERING_FAILURE: 3,
  REJECTED: 4,
  BOUNCED: 5,
  COMPLAINED: 6,
};

/**
 * Does `update`'s status replace the current one? As if events were applied in the order they happened: the latest
 * wins, except that once an entry bounced or was complained about, that stays (the first such event stays). Written
 * as a comparison, not as "apply in arrival order", so that any arrival order gives the same state.
 */
export function outranks(update: Pick<DeliveryUpdate, 'status' | 'at' | 'key'>, current: DeliveryState): boolean {
  if (!update.status) return false;
  if (!current.status || !current.at) return true;
  const sticky = STICKY.has(update.status);
  if (sticky !== STICKY.has(current.status)) return sticky;
  const t = Date.parse(update.at);
  const c = Date.parse(current.at);
  if (t !== c) return sticky ? t < c : t > c;
  if (update.status !== current.status) return RANK[update.status] > RANK[current.status];
  return update.key > (current.statusKey ?? '');
}

/** Folds one normalised SES event into an entry's delivery state. Pure: returns a new state, never mutates. */
export function mergeDelivery(current: DeliveryState | undefined, update: DeliveryUpdate): MergeOutcome {
  const state = current ?? EMPTY_DELIVERY;
  if (state.keys.includes(update.key)) return { state, duplicate: true, statusChanged: false };
  const next: DeliveryState = {
    ...state,
    opened: state.opened + (update.opened ? 1 : 0),
    clicked: state.clicked + (update.clicked ? 1 : 0),
    keys: [...state.keys, update.key].slice(-MAX_REMEMBERED_EVENTS),
  };
  const statusChanged = outranks(update, state);
  if (statusChanged) {
    next.status = update.status;
    next.at = update.at;
    next.statusKey = update.key;
    if (update.detail) next.detail = update.detail;
    else delete next.detail;
  }
  return { state: next, duplicate: false, statusChanged };
}
