// normaliseSesEvent(): one SES event object, of any type and from any source, → a DeliveryUpdate or why it is ignored.
import { createHash } from 'node:crypto';
import { addressOf } from '../http/sender-policy.js';

export const SES_EVENT_TYPES = [
  'Send',
  'Reject',
  'Bounce',
  'Complaint',
  'Delivery',
  'Open',
  'Click',
  'Rendering Failure',
  'DeliveryDelay',
  'Subscription',
] as const;
export type SesEventType = (typeof SES_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = [
  'DELIVERED',
  'BOUNCED',
  'COMPLAINED',
  'REJECTED',
  'DELAYED',
  'RENDERING_FAILURE',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What SES said about the outcome, trimmed to bounded strings. Which fields appear depends on the event type. */
export interface DeliveryDetail {
  /** Bounce: `Permanent`, `Transient` or `Undetermined`, and SES's subtype (`General`, `NoEmail`, `Suppressed`…). */
  bounceType?: string;
  bounceSubType?: string;
  /** Bounce and DeliveryDelay: the first recipient's diagnostic code and DSN status (`5.1.1`). */
  diagnosticCode?: string;
  smtpStatus?: string;
  /** Complaint: the feedback report's type (`abuse`, `not-spam`…) and SES's subtype. */
  complaintFeedbackType?: string;
  complaintSubType?: string;
  /** Delivery: the receiving server's answer. */
  smtpResponse?: string;
  /** Reject: why SES refused to send it (e.g. a virus). */
  reason?: string;
  /** Rendering Failure. */
  errorMessage?: string;
  templateName?: string;
  /** DeliveryDelay. */
  delayType?: string;
  expirationTime?: string;
}

/** What one event adds to the reputation guard's counts (recipients). */
export interface ReputationCounts {
  delivered: number;
  bounced: number;
  complained: number;
}

/** One SES event, normalised: the input for the delivery-state merge, the suppression list and the guard. */
export interface DeliveryUpdate {
  /** Equal for repeats of one event, different for different events: what makes the merge idempotent. */
  key: string;
  /** `mail.messageId`: the MessageId SendBulkEmail returned for the entry. */
  messageId: string;
  type: SesEventType;
  /** When it happened (the event's own timestamp, else the mail's), ISO 8601 UTC. */
  at: string;
  /** The addresses the event is about (lower-cased, at most MAX_EVENT_RECIPIENTS). */
  recipients: string[];
  status?: DeliveryStatus;
  detail?: DeliveryDetail;
  opened?: true;
  clicked?: true;
  /** Click: the link followed. */
  link?: string;
  /** Addresses that must not be mailed again: permanent bounces, complaints (not `not-spam`), unsubscribe-all. */
  suppress?: string[];
  /** What this event adds to the guard's counts; absent for events that do not count. */
  reputation?: Partial<ReputationCounts>;
}

export type NormalisedEvent = { ok: true; update: DeliveryUpdate } | { ok: false; reason: string };

/** SES sends one message to at most 50 recipients; more in one event is not SES talking. */
export const MAX_EVENT_RECIPIENTS = 50;
const MAX_SCANNED = 1000;
const MAX_TEXT = 1000;
const MAX_LINK = 2048;
const MAX_MESSAGE_ID = 256;
const MAX_INPUT_TEXT = 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property (never one from the prototype chain), as an object when it is one. */
function objectAt(value: Json, key: string): Json | undefined {
  const field = Object.hasOwn(value, key) ? value[key] : undefined;
  return isObject(field) ? field : undefined;
}

function stringAt(value: Json | undefined, key: string, max = MAX_TEXT): string | undefined {
  const field = value && Object.hasOwn(value, key) ? value[key] : undefined;
  return typeof field === 'string' && field.length > 0 ? field.slice(0, max) : undefined;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An SES timestamp as ISO 8601 UTC. SES writes `2017-08-05T00:41:02.669Z`, but its documents also show
 * `2018-10-08T14:05:45 +0000` and `…T04:24:21.000-05:00`; no zone is taken as UTC.
 */
export function sesTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const m = ISO_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = m;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Number(`${fraction}000`.slice(0, 3)));
  const back = new Date(t);
  if (back.getUTCMonth() !== +mo - 1 || back.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return undefined;
  if (zone.toUpperCase() !== 'Z') {
    const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2));
    t -= (zone[0] === '-' ? -1 : 1) * offset * 60_000;
  }
  return new Date(t).toISOString();
}

/** Visible characters only (no spaces, no control characters); non-ASCII allowed (internationalised addresses). */
const VISIBLE = /^[!-~\u00a0-\uffff]+$/;

/** A recipient address, normalised as the suppression list compares them; undefined when it is not one. */
function recipientAddress(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1000) return undefined;
  const address = addressOf(value);
  const at = address.lastIndexOf('@');
  if (address.length > 320 || at < 1 || at === address.length - 1 || !VISIBLE.test(address) || /[<>]/.test(address)) {
    return undefined;
  }
  return address;
}

/** Distinct valid addresses from a list of strings or of `{ emailAddress }`, bounded in work and in size. */
function addressList(value: unknown, field?: string): string[] {
  if (!Array.isArray(value)) return [];
  const found = new Set<string>();
  for (const item of value.slice(0, MAX_SCANNED)) {
    const raw = field ? (isObject(item) && Object.hasOwn(item, field) ? item[field] : undefined) : item;
    const address = recipientAddress(raw);
    if (address) found.add(address);
    if (found.size === MAX_EVENT_RECIPIENTS) break;
  }
  return [...found];
}

function firstRecipient(value: unknown): Json | undefined {
  return Array.isArray(value) && isObject(value[0]) ? value[0] : undefined;
}

function eventKey(parts: (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

/** Drops undefined fields, so that details compare and serialise cleanly. */
function compact<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as T) : undefined;
}

/**
 * Peels the envelopes an SES event arrives in when an app hands it over as received: a JSON string (an SQS body),
 * an EventBridge event (`detail`), an SNS notification (`Message`, as SQS or Lambda deliver it), a Lambda SNS record
 * (`Sns.Message`). No signature is checked here: whoever calls `ingest` vouches for what it passes.
 */
function unwrap(input: unknown): unknown {
  let value = input;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof value === 'string') {
      if (value.length > MAX_INPUT_TEXT) return undefined;
      try {
        value = JSON.parse(value);
      } catch {
        return undefined;
      }
      continue;
    }
    if (!isObject(value)) return value;
    if (typeof value['detail-type'] === 'string' && objectAt(value, 'detail')) value = objectAt(value, 'detail');
    else if (value.Type === 'Notification' && typeof value.Message === 'string') value = value.Message;
    else if (objectAt(value, 'Sns') && typeof objectAt(value, 'Sns')?.Message === 'string') {
      value = objectAt(value, 'Sns')?.Message;
    } else return value;
  }
  return value;
}

const ignored = (reason: string): NormalisedEvent => ({ ok: false, reason });
const printable = (value: string) => JSON.stringify(value.slice(0, 40));

/**
 * Validates one SES event defensively and normalises it. Unknown fields are ignored; a missing or odd field makes
 * the event ignored with a reason (never a throw). Works for event publishing (`eventType`, every type) and for
 * identity notifications (`notificationType`: Bounce, Complaint, Delivery).
 */
export function normaliseSesEvent(input: unknown): NormalisedEvent {
  const event = unwrap(input);
  if (!isObject(event)) return ignored('not an SES event object');
  const type = stringAt(event, 'eventType', 64) ?? stringAt(event, 'notificationType', 64);
  if (type === undefined) return ignored('no eventType or notificationType');
  if (!(SES_EVENT_TYPES as readonly string[]).includes(type))
    return ignored(`event type ${printable(type)} is not handled`);
  const mail = objectAt(event, 'mail');
  const messageId = stringAt(mail, 'messageId', MAX_MESSAGE_ID + 1);
  if (!messageId || messageId.length > MAX_MESSAGE_ID || !/^[!-~]+$/.test(messageId)) {
    return ignored('no usable mail.messageId');
  }
  const destination = addressList(mail?.destination);
  const mailAt = sesTime(mail?.timestamp);

  const base = (
    body: Json | undefined,
    recipients: string[],
    discriminator: (string | undefined)[],
  ): DeliveryUpdate | NormalisedEvent => {
    const at = sesTime(body?.timestamp) ?? mailAt;
    if (!at) return ignored(`${type} event without a valid timestamp`);
    const key = eventKey([type, messageId, at, recipients.join(','), ...discriminator]);
    return { key, messageId, type: type as SesEventType, at, recipients };
  };
  const done = (update: DeliveryUpdate | NormalisedEvent, extra: Partial<DeliveryUpdate> = {}): NormalisedEvent => {
    if ('ok' in update) return update;
    const full = { ...update, ...extra };
    for (const key of Object.keys(full) as (keyof DeliveryUpdate)[]) if (full[key] === undefined) delete full[key];
    return { ok: true, update: full };
  };

  switch (type as SesEventType) {
    case 'Bounce': {
      const bounce = objectAt(event, 'bounce');
      const recipients = addressList(bounce?.bouncedRecipients, 'emailAddress');
      if (!bounce || recipients.length === 0) return ignored('Bounce event names no bounced recipient');
      const bounceType = stringAt(bounce, 'bounceType', 64);
      const bounceSubType = stringAt(bounce, 'bounceSubType', 64);
      const first = firstRecipient(bounce.bouncedRecipients);
      const permanent = bounceType === 'Permanent';
      // SES does not count sends to its account-level suppression list towards the bounce rate.
      const counted = permanent && bounceSubType !== 'OnAccountSuppressionList';
      return done(base(bounce, recipients, [stringAt(bounce, 'feedbackId')]), {
        status: 'BOUNCED',
        detail: compact({
          bounceType,
          bounceSubType,
          diagnosticCode: stringAt(first, 'diagnosticCode'),
          smtpStatus: stringAt(first, 'status', 64),
        }),
        suppress: permanent ? recipients : undefined,
        reputation: counted ? { bounced: recipients.length } : undefined,
      });
    }
    case 'Complaint': {
      const complaint = objectAt(event, 'complaint');
      const recipients = addressList(complaint?.complainedRecipients, 'emailAddress');
      if (!complaint || recipients.length === 0) return ignored('Complaint event names no complained recipient');
      const complaintFeedbackType = stringAt(complaint, 'complaintFeedbackType', 64);
      const complaintSubType = stringAt(complaint, 'complaintSubType', 64);
      const detail = compact({ complaintFeedbackType, complaintSubType });
      const update = base(complaint, recipients, [stringAt(complaint, 'feedbackId')]);
      // `not-spam` is a mailbox provider taking a spam verdict back: not a complaint.
      if (complaintFeedbackType === 'not-spam') return done(update, { detail });
      return done(update, {
        status: 'COMPLAINED',
        detail,
        suppress: recipients,
        reputation: complaintSubType === 'OnAccountSuppressionList' ? undefined : { complained: recipients.length },
      });
    }
    case 'Delivery': {
      const delivery = objectAt(event, 'delivery');
      const listed = addressList(delivery?.recipients);
      const recipients = listed.length ? listed : destination;
      if (!delivery || recipients.length === 0) return ignored('Delivery event names no recipient');
      return done(base(delivery, recipients, []), {
        status: 'DELIVERED',
        detail: compact({ smtpResponse: stringAt(delivery, 'smtpResponse') }),
        reputation: { delivered: recipients.length },
      });
    }
    case 'DeliveryDelay': {
      const delay = objectAt(event, 'deliveryDelay');
      const listed = addressList(delay?.delayedRecipients, 'emailAddress');
      const recipients = listed.length ? listed : destination;
      if (!delay) return ignored('DeliveryDelay event without deliveryDelay');
      const first = firstRecipient(delay.delayedRecipients);
      return done(base(delay, recipients, []), {
        status: 'DELAYED',
        detail: compact({
          delayType: stringAt(delay, 'delayType', 64),
          expirationTime: sesTime(delay.expirationTime),
          diagnosticCode: stringAt(first, 'diagnosticCode'),
          smtpStatus: stringAt(first, 'status', 64),
        }),
      });
    }
    case 'Reject': {
      const reject = objectAt(event, 'reject');
      return done(base(undefined, destination, []), {
        status: 'REJECTED',
        detail: compact({ reason: stringAt(reject, 'reason') }),
      });
    }
    case 'Rendering Failure': {
      const failure = objectAt(event, 'failure');
      return done(base(undefined, destination, []), {
        status: 'RENDERING_FAILURE',
        detail: compact({
          errorMessage: stringAt(failure, 'errorMessage'),
          templateName: stringAt(failure, 'templateName', 256),
        }),
      });
    }
    case 'Open': {
      const open = objectAt(event, 'open');
      if (!open) return ignored('Open event without open');
      return done(base(open, destination, [stringAt(open, 'ipAddress'), stringAt(open, 'userAgent')]), {
        opened: true,
      });
    }
    case 'Click': {
      const click = objectAt(event, 'click');
      if (!click) return ignored('Click event without click');
      const link = stringAt(click, 'link', MAX_LINK);
      return done(base(click, destination, [link, stringAt(click, 'ipAddress'), stringAt(click, 'userAgent')]), {
        clicked: true,
        link,
      });
    }
    case 'Subscription': {
      const subscription = objectAt(event, 'subscription');
      if (!subscription) return ignored('Subscription event without subscription');
      const unsubscribeAll = objectAt(subscription, 'newTopicPreferences')?.unsubscribeAll === true;
      // Only when the message had one recipient is it certain who unsubscribed.
      const suppress = unsubscribeAll && destination.length === 1 ? destination : undefined;
      return done(base(subscription, destination, [String(unsubscribeAll)]), { suppress });
    }
    default:
      return done(base(objectAt(event, 'send'), destination, []));
  }
}
