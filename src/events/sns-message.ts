// An SNS HTTP message: its shape checked field by field, and the canonical string its signature covers.

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** An SNS message whose shape is right (every field a string of sane length). Nothing in it is verified yet. */
export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  /** Only on notifications, and only when the publisher gave one (`''` is a subject, absent or null is none). */
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  /** Confirmations only. */
  SubscribeURL?: string;
  Token?: string;
  /** Notifications only (not signed, never visited). */
  UnsubscribeURL?: string;
}

/** Which fields the signature covers, in the order SNS joins them. */
const SIGNED_FIELDS = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as const satisfies Record<SnsMessageType, readonly (keyof SnsMessage)[]>;

/** Longest accepted value per field (characters); `Message` is bounded by the body limit alone. */
const MAX_LENGTH: Partial<Record<keyof SnsMessage, number>> = {
  MessageId: 128,
  TopicArn: 512,
  Subject: 1024,
  Timestamp: 64,
  SignatureVersion: 8,
  Signature: 2048,
  SigningCertURL: 512,
  SubscribeURL: 4096,
  Token: 2048,
  UnsubscribeURL: 4096,
};

const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'];

/** Why a body is not an SNS message, for logs (never shown to the caller, who learns only that it was refused). */
export type SnsShapeProblem = { ok: false; problem: string };

function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/**
 * Checks that `value` (the parsed body) is an SNS message of a known `Type` with every field it needs, as strings.
 * Unknown fields are ignored, as SNS may add some. `Subject: null` counts as no subject.
 */
export function parseSnsMessage(value: unknown): { ok: true; message: SnsMessage } | SnsShapeProblem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'the body is not a JSON object' };
  }
  const body = value as Record<string, unknown>;
  const type = own(body, 'Type');
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') {
    return { ok: false, problem: 'Type is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation' };
  }
  const required = type === 'Notification' ? REQUIRED : [...REQUIRED, 'SubscribeURL', 'Token'];
  const optional = type === 'Notification' ? ['Subject', 'UnsubscribeURL'] : [];
  const message: Record<string, string> = { Type: type };
  for (const key of [...required, ...optional]) {
    const field = own(body, key);
    if (field === undefined || (field === null && optional.includes(key))) {
      if (required.includes(key)) return { ok: false, problem: `${key} is missing` };
      continue;
    }
    if (typeof field !== 'string') return { ok: false, problem: `${key} is not a string` };
    const max = MAX_LENGTH[key as keyof SnsMessage];
    if (max !== undefined && field.length > max) return { ok: false, problem: `${key} is longer than ${max}` };
    message[key] = field;
  }
  return { ok: true, message: message as unknown as SnsMessage };
}

/**
 * The string SNS signs: `name\nvalue\n` for each signed field present, in SNS's order — ending with a newline
 * (a verifier that drops the last one refuses every genuine message).
 */
export function snsStringToSign(message: SnsMessage): string {
  let text = '';
  for (const key of SIGNED_FIELDS[message.Type]) {
    const value = message[key];
    if (value !== undefined) text += `${key}\n${value}\n`;
  }
  return text;
}
