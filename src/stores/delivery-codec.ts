// encodeDelivery() / decodeDelivery(): one message's delivery state as a short string, the form both stores keep.
import type { DeliveryState } from '../events/delivery-state.js';
import { DELIVERY_STATUSES, type DeliveryDetail, type DeliveryStatus } from '../events/ses-event.js';

/*
 * JSON with one-letter keys and the status as its index in DELIVERY_STATUSES; zero counts, an absent detail and a
 * key list equal to [statusKey] (the usual case: one Delivery event) are left out. A message with only a Delivery
 * event keeps about 70 bytes plus the receiving server's answer, instead of ~400 for the object.
 */
interface Packed {
  /** Status index. */
  s?: number;
  /** At. */
  a?: string;
  /** Status key. */
  k?: string;
  d?: DeliveryDetail;
  o?: number;
  c?: number;
  /** Event keys, when not just [k]. */
  e?: string[];
}

export function encodeDelivery(state: DeliveryState): string {
  const packed: Packed = {};
  if (state.status !== undefined) packed.s = DELIVERY_STATUSES.indexOf(state.status);
  if (state.at !== undefined) packed.a = state.at;
  if (state.statusKey !== undefined) packed.k = state.statusKey;
  if (state.detail !== undefined) packed.d = state.detail;
  if (state.opened) packed.o = state.opened;
  if (state.clicked) packed.c = state.clicked;
  const onlyStatusKey = state.keys.length === 1 && state.keys[0] === state.statusKey;
  if (!onlyStatusKey && state.keys.length > 0) packed.e = state.keys;
  return JSON.stringify(packed);
}

/** The state a string from `encodeDelivery` holds; undefined for '' or anything unreadable (treated as none). */
export function decodeDelivery(text: string | null | undefined): DeliveryState | undefined {
  if (!text) return undefined;
  let packed: Packed;
  try {
    packed = JSON.parse(text) as Packed;
  } catch {
    return undefined;
  }
  if (typeof packed !== 'object' || packed === null) return undefined;
  const state: DeliveryState = { opened: packed.o ?? 0, clicked: packed.c ?? 0, keys: [] };
  const status: DeliveryStatus | undefined = packed.s === undefined ? undefined : DELIVERY_STATUSES[packed.s];
  if (status) state.status = status;
  if (packed.a !== undefined) state.at = packed.a;
  if (packed.k !== undefined) state.statusKey = packed.k;
  if (packed.d !== undefined) state.detail = packed.d;
  state.keys = packed.e ?? (packed.k !== undefined ? [packed.k] : []);
  return state;
}
