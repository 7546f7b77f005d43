// deliveryCountDeltas(): how a message's delivery status change moves its job's delivered / bounced / complained counts.
import type { DeliveryStatus } from '../events/ses-event.js';

export type DeliveryCountField = 'delivered' | 'bounced' | 'complained';

const FIELD: Partial<Record<DeliveryStatus, DeliveryCountField>> = {
  DELIVERED: 'delivered',
  BOUNCED: 'bounced',
  COMPLAINED: 'complained',
};

/** The count changes, e.g. DELIVERED → BOUNCED gives [['delivered', -1], ['bounced', 1]]; none when equal. */
export function deliveryCountDeltas(
  before: DeliveryStatus | undefined,
  after: DeliveryStatus | undefined,
): [DeliveryCountField, number][] {
  if (before === after) return [];
  const out: [DeliveryCountField, number][] = [];
  const from = before && FIELD[before];
  const to = after && FIELD[after];
  if (from) out.push([from, -1]);
  if (to) out.push([to, 1]);
  return out;
}
