// SES event objects for tests: AWS's documented shapes (test/fixtures/ses-events) re-aimed at a message, its recipients and a time.
import { readFileSync } from 'node:fs';

export type SesEventKind =
  | 'bounce-permanent'
  | 'bounce-transient'
  | 'bounce-on-account-suppression-list'
  | 'complaint'
  | 'complaint-not-spam'
  | 'delivery'
  | 'delivery-delay'
  | 'open'
  | 'click'
  | 'reject'
  | 'rendering-failure'
  | 'send'
  | 'subscription-unsubscribe-all';

const DIR = new URL('../fixtures/ses-events/', import.meta.url);
/** The part of each event type that carries its own time and recipients. */
const BODY = ['bounce', 'complaint', 'delivery', 'deliveryDelay', 'open', 'click', 'subscription', 'send', 'failure'];

export interface EventTarget {
  /** The MessageId SendBulkEmail returned for the entry. */
  messageId: string;
  /** The message's recipients (and the ones the event is about). */
  recipients: string[];
  /** When the event happened (default: now). */
  at?: string | number;
}

let serial = 0;

/**
 * The fixture `kind` about `target`: `mail.messageId` / `mail.destination`, the event's recipients and timestamp
 * replaced; a fresh feedbackId (and user agent for opens and clicks), so that two calls are two distinct SES events.
 */
export function sesEvent(kind: SesEventKind, target: EventTarget): Record<string, unknown> {
  const event = JSON.parse(readFileSync(new URL(`${kind}.json`, DIR), 'utf8'));
  const at = new Date(target.at ?? Date.now()).toISOString();
  serial++;
  event.mail.messageId = target.messageId;
  event.mail.destination = target.recipients;
  event.mail.timestamp = at;
  for (const name of BODY) {
    const body = event[name];
    if (!body) continue;
    if ('timestamp' in body) body.timestamp = at;
    if ('feedbackId' in body) body.feedbackId = `feedback-${serial}`;
    if ('userAgent' in body) body.userAgent = `agent-${serial}`;
    if (Array.isArray(body.recipients)) body.recipients = target.recipients;
    for (const list of ['bouncedRecipients', 'complainedRecipients', 'delayedRecipients']) {
      if (Array.isArray(body[list])) {
        const [first] = body[list];
        body[list] = target.recipients.map((emailAddress) => ({ ...first, emailAddress }));
      }
    }
  }
  return event;
}

/** The same event as EventBridge delivers it (the SES event is its `detail`). */
export function eventBridge(event: Record<string, unknown>): Record<string, unknown> {
  return {
    version: '0',
    id: `eb-${++serial}`,
    'detail-type': `Email ${String(event.eventType)}`,
    source: 'aws.ses',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: event,
  };
}
