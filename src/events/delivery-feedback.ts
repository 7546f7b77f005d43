// deliveryFeedback(): SES events in — merged into the entry, suppressing, counted by the guard, reported — and the lists.
import type { SuppressionConfig } from '../options.js';
import type { DeliveryRecord, SuppressedAddress } from '../types.js';
import { type PrincipalGuard, type PrincipalGuardDeps, principalGuard } from './principal-guard.js';
import type { GuardConfig } from './reputation-guard.js';
import type { SeenMessages } from './seen-messages.js';
import { type DeliveryUpdate, normaliseSesEvent } from './ses-event.js';
import { suppressionsFor } from './suppression-rule.js';

export interface DeliveryFeedbackDeps extends Omit<PrincipalGuardDeps, 'config'> {
  guard?: GuardConfig;
  suppression: SuppressionConfig;
}

/** What `router.ingest` did with one event. */
export interface IngestOutcome {
  /** `recorded`: merged into its entry; `duplicate`: seen before, nothing new; `ignored`: unusable or unknown. */
  outcome: 'recorded' | 'duplicate' | 'ignored';
  /** Why it was ignored. */
  reason?: string;
}

export interface DeliveryFeedback {
  /** One SES event (any envelope `normaliseSesEvent` peels). Throws only when the store fails (retry it). */
  ingest(event: unknown): Promise<IngestOutcome>;
  guard: PrincipalGuard;
  /** The suppression list a principal's mail is checked against and its own routes manage. */
  listOf(principalId: string): string;
  /** Puts addresses on the principal's list (the first reason stays); returns how many were new. */
  suppress(principalId: string, entries: readonly SuppressedAddress[]): Promise<number>;
  /** SNS MessageIds seen, shared by every process that shares the store. */
  seen: SeenMessages;
}

/** The list name: `p:<principal>`, or `*` for the one account-wide list. */
function listName(scope: SuppressionConfig['scope'], principalId: string): string {
  return scope === 'account' ? '*' : `p:${principalId}`;
}

export function deliveryFeedback(deps: DeliveryFeedbackDeps): DeliveryFeedback {
  const { store, logger, emit, suppression } = deps;
  const guard = principalGuard({ ...deps, config: deps.guard });
  const listOf = (principalId: string) => listName(suppression.scope, principalId);

  async function suppress(principalId: string, entries: readonly SuppressedAddress[]): Promise<number> {
    if (entries.length === 0) return 0;
    const added = await store.addSuppressions(listOf(principalId), entries, suppression.maxAddresses);
    if (added > 0) {
      logger.info(
        { principalId, added, reason: entries[0].reason },
        'express-bulk-email: addresses added to the suppression list',
      );
    }
    return added;
  }

  /** entry.delivery for every new event; entry.bounced / entry.complained when the entry first becomes so. */
  function report(update: DeliveryUpdate, record: DeliveryRecord): void {
    const { message, previous, outcome } = record;
    const { jobId, principalId, index, messageId } = message;
    const { state } = outcome;
    const base = { jobId, principalId, index, messageId };
    emit({
      type: 'entry.delivery',
      ...base,
      eventType: update.type,
      ...(state.status ? { status: state.status } : {}),
      ...(state.detail ? { detail: state.detail } : {}),
      statusChanged: outcome.statusChanged,
      opened: state.opened,
      clicked: state.clicked,
      at: update.at,
    });
    const became = previous?.status !== state.status ? state.status : undefined;
    if (became === 'BOUNCED') {
      emit({
        type: 'entry.bounced',
        ...base,
        recipients: update.recipients,
        ...(state.detail?.bounceType ? { bounceType: state.detail.bounceType } : {}),
        ...(state.detail?.bounceSubType ? { bounceSubType: state.detail.bounceSubType } : {}),
        at: state.at ?? update.at,
      });
    } else if (became === 'COMPLAINED') {
      emit({
        type: 'entry.complained',
        ...base,
        recipients: update.recipients,
        ...(state.detail?.complaintFeedbackType ? { complaintFeedbackType: state.detail.complaintFeedbackType } : {}),
        at: state.at ?? update.at,
      });
    }
  }

  return {
    guard,
    listOf,
    suppress,
    seen: {
      seen: (id, ttlMs) => store.markSeen(`sns:${id}`, ttlMs),
      forget: (id) => store.forgetSeen(`sns:${id}`),
    },

    async ingest(event) {
      const normalised = normaliseSesEvent(event);
      if (!normalised.ok) {
        logger.debug({ reason: normalised.reason }, 'express-bulk-email: SES event ignored');
        return { outcome: 'ignored', reason: normalised.reason };
      }
      const { update } = normalised;
      const record = await store.recordDelivery(update);
      if (!record) {
        logger.debug(
          { messageId: update.messageId, eventType: update.type },
          'express-bulk-email: SES event for a message id this router does not know (expired, or not sent through it); ignored',
        );
        return { outcome: 'ignored', reason: 'unknown message id' };
      }
      const { message, outcome } = record;
      // Suppression is idempotent, so it runs for a repeat too: a process that stopped after the merge loses nothing.
      // Only the entry's own recipients (all that the event names when the job was stored without them).
      await suppress(
        message.principalId,
        suppressionsFor(update, message.recipients.length ? message.recipients : undefined),
      );
      if (outcome.duplicate) return { outcome: 'duplicate' };
      report(update, record);
      if (update.reputation) await guard.count(message, update.at, update.reputation);
      return { outcome: 'recorded' };
    },
  };
}
