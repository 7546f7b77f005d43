// suppressionsFor(): which addresses one SES event puts on the suppression list, and why.
import { addressOf } from '../http/sender-policy.js';
import type { DeliveryUpdate } from './ses-event.js';

/** Why an address is suppressed (SES's own list uses the first two words). */
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT' | 'UNSUBSCRIBE';

export interface Suppression {
  /** Lower-cased bare address, as `addressOf` writes it (the form the `suppress` step compares). */
  address: string;
  reason: SuppressionReason;
  /** When the event happened. */
  at: string;
  /** The SES message that caused it. */
  messageId: string;
}

const REASON: Partial<Record<DeliveryUpdate['type'], SuppressionReason>> = {
  Bounce: 'BOUNCE',
  Complaint: 'COMPLAINT',
  Subscription: 'UNSUBSCRIBE',
};

/**
 * The suppressions an event asks for: permanent bounces (every subtype, including SES's own suppression lists),
 * complaints other than `not-spam`, and unsubscribe-all from a one-recipient message — as `normaliseSesEvent` set
 * `update.suppress`. With `entryRecipients` (the entry the event correlated to), only the entry's own recipients
 * are taken: an event can then never suppress an address this entry did not mail.
 */
export function suppressionsFor(update: DeliveryUpdate, entryRecipients?: readonly string[]): Suppression[] {
  const reason = REASON[update.type];
  if (!reason || !update.suppress?.length) return [];
  const own = entryRecipients ? new Set(entryRecipients.map(addressOf)) : undefined;
  return update.suppress
    .filter((address) => !own || own.has(address))
    .map((address) => ({ address, reason, at: update.at, messageId: update.messageId }));
}
