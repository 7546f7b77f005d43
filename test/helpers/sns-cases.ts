// The SNS message cases every transport runs: the receiver function directly, and POST /events/sns over HTTP.
import type { SnsReceiverOptions } from '../../src/events/sns-receiver.js';
import { snsReceiver } from '../../src/events/sns-receiver.js';
import type { SnsRefusal } from '../../src/events/sns-verify.js';
import type { Logger } from '../../src/types.js';
import { type FakeClock, fakeClock } from './fake-clock.js';
import {
  CERT_URL,
  OTHER_CERT_URL,
  type SnsFields,
  TOPIC_ARN,
  type TestAuthority,
  confirmation,
  notification,
  signSns,
  snsBody,
} from './sns-signer.js';

/** Durations for the cases (the harness clock starts at the real now, when the test certificates are valid). */
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const SES_BOUNCE = {
  eventType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: 'recipient@example.com', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1' }],
    timestamp: '2026-12-01T11:59:00.000Z',
    feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
  },
  mail: {
    timestamp: '2026-12-01T11:58:00.000Z',
    messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
    destination: ['recipient@example.com'],
  },
};

export interface SnsHarness {
  clock: FakeClock;
  /** Certificates served by URL through fetchCertificate. */
  certificates: Map<string, string>;
  fetched: string[];
  confirmed: string[];
  ingested: unknown[];
  warnings: object[];
  receiver: ReturnType<typeof snsReceiver>;
  /** Signs with the leaf key (or `keyPem`), stamped now unless the fields say otherwise. */
  sign(fields: SnsFields, options?: { version?: '1' | '2'; certUrl?: string; keyPem?: string }): SnsFields;
}

/** `start`: the harness clock's time (default: the real now, when the test certificates are valid). */
export function snsHarness(
  auth: TestAuthority,
  over: Partial<SnsReceiverOptions> = {},
  start = Date.now(),
): SnsHarness {
  const clock = fakeClock(start);
  const certificates = new Map([
    [CERT_URL, auth.certPem],
    [OTHER_CERT_URL, auth.otherCertPem],
  ]);
  const fetched: string[] = [];
  const confirmed: string[] = [];
  const ingested: unknown[] = [];
  const warnings: object[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => warnings.push(o), error: (o) => warnings.push(o) };
  const receiver = snsReceiver({
    topicArns: [TOPIC_ARN],
    fetchCertificate: async (url) => {
      fetched.push(url);
      const pem = certificates.get(url);
      if (!pem) throw new Error('404');
      return pem;
    },
    confirmSubscription: async (url) => {
      confirmed.push(url);
    },
    ingest: (event) => {
      ingested.push(event);
    },
    clock,
    logger,
    ...over,
  });
  return {
    clock,
    certificates,
    fetched,
    confirmed,
    ingested,
    warnings,
    receiver,
    sign: (fields, options = {}) => signSns(fields, options.keyPem ?? auth.keyPem, options),
  };
}

export interface SnsCase {
  name: string;
  /** The raw body to post (built against the harness: its clock, its keys). */
  body(h: SnsHarness, auth: TestAuthority): string | Buffer;
  status: 200 | 400 | 403 | 503;
  code?: string;
  reason?: SnsRefusal;
  /** How many SES events reached ingest. */
  ingested: number;
  /** How many certificate downloads were asked for (0: refused before any network). */
  fetched?: number;
}

const tamper = (fields: SnsFields, key: string, change: (v: string) => string): SnsFields => ({
  ...fields,
  [key]: change(fields[key] as string),
});
/** Changes one character of a base64 signature (keeping it base64). */
const flip = (sig: string) =>
  sig[10] === 'A' ? `${sig.slice(0, 10)}B${sig.slice(11)}` : `${sig.slice(0, 10)}A${sig.slice(11)}`;
const now = (h: SnsHarness) => h.clock.now();

function certUrlCase(name: string, certUrl: string): SnsCase {
  return {
    name: `refuses a certificate from ${name}`,
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h)), { certUrl })),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'untrusted-certificate-url',
    ingested: 0,
    fetched: 0,
  };
}

export const SNS_CASES: SnsCase[] = [
  ...(['1', '2'] as const).flatMap((version): SnsCase[] => [
    {
      name: `accepts a genuine notification, signature version ${version}`,
      body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h)), { version })),
      status: 200,
      ingested: 1,
      fetched: 1,
    },
    {
      name: `refuses version ${version} with one byte of Message changed`,
      body: (h) =>
        snsBody(
          tamper(h.sign(notification(SES_BOUNCE, now(h)), { version }), 'Message', (m) =>
            m.replace('Permanent', 'Permanenu'),
          ),
        ),
      status: 403,
      code: 'INVALID_SIGNATURE',
      reason: 'bad-signature',
      ingested: 0,
    },
    {
      name: `refuses version ${version} with one byte of Subject changed`,
      body: (h) =>
        snsBody(tamper(h.sign(notification(SES_BOUNCE, now(h)), { version }), 'Subject', (s) => `${s.slice(0, -1)}X`)),
      status: 403,
      code: 'INVALID_SIGNATURE',
      reason: 'bad-signature',
      ingested: 0,
    },
    {
      name: `refuses version ${version} with one byte of Signature changed`,
      body: (h) => snsBody(tamper(h.sign(notification(SES_BOUNCE, now(h)), { version }), 'Signature', flip)),
      status: 403,
      code: 'INVALID_SIGNATURE',
      reason: 'bad-signature',
      ingested: 0,
    },
  ]),
  {
    name: 'refuses a message signed as version 1 but labelled version 2',
    body: (h) => snsBody({ ...h.sign(notification(SES_BOUNCE, now(h)), { version: '1' }), SignatureVersion: '2' }),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'bad-signature',
    ingested: 0,
  },
  {
    name: 'accepts a notification without Subject (not in the signed string)',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h), { Subject: undefined }))),
    status: 200,
    ingested: 1,
  },
  {
    name: 'accepts Subject: null as no subject',
    body: (h) => snsBody({ ...h.sign(notification(SES_BOUNCE, now(h), { Subject: undefined })), Subject: null }),
    status: 200,
    ingested: 1,
  },
  {
    name: 'accepts an empty Subject (in the signed string as an empty value)',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h), { Subject: '' }))),
    status: 200,
    ingested: 1,
  },
  {
    name: 'refuses an empty Subject added to a message signed without one',
    body: (h) => snsBody({ ...h.sign(notification(SES_BOUNCE, now(h), { Subject: undefined })), Subject: '' }),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'bad-signature',
    ingested: 0,
  },
  {
    name: 'refuses a message signed with an empty Subject that arrives without it',
    body: (h) => {
      const { Subject: _, ...rest } = h.sign(notification(SES_BOUNCE, now(h), { Subject: '' }));
      return snsBody(rest);
    },
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'bad-signature',
    ingested: 0,
  },
  {
    name: 'refuses a message signed by another key than the certificate’s',
    body: (h, auth) => snsBody(h.sign(notification(SES_BOUNCE, now(h)), { keyPem: auth.otherKeyPem })),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'bad-signature',
    ingested: 0,
  },
  {
    name: 'accepts a message signed with another genuine certificate (SNS rotates them)',
    body: (h, auth) =>
      snsBody(h.sign(notification(SES_BOUNCE, now(h)), { keyPem: auth.otherKeyPem, certUrl: OTHER_CERT_URL })),
    status: 200,
    ingested: 1,
    fetched: 1,
  },
  {
    name: 'refuses an unsigned message',
    body: (h) => snsBody(notification(SES_BOUNCE, now(h))),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'malformed',
    ingested: 0,
    fetched: 0,
  },
  {
    name: 'refuses signature version 3',
    body: (h) => snsBody({ ...h.sign(notification(SES_BOUNCE, now(h))), SignatureVersion: '3' }),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'unsupported-signature-version',
    ingested: 0,
    fetched: 0,
  },
  certUrlCase(
    'sns.us-east-1.amazonaws.com.evil.example',
    CERT_URL.replace('amazonaws.com/', 'amazonaws.com.evil.example/'),
  ),
  certUrlCase('an S3 bucket', 'https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem'),
  certUrlCase('an S3 virtual host', 'https://evil.s3.us-east-1.amazonaws.com/SimpleNotificationService-1.pem'),
  certUrlCase('plain http:', CERT_URL.replace('https:', 'http:')),
  certUrlCase('another region than the topic’s', CERT_URL.replace('us-east-1', 'us-west-2')),
  certUrlCase('an explicit port', CERT_URL.replace('amazonaws.com/', 'amazonaws.com:443/')),
  certUrlCase('a URL with user info', CERT_URL.replace('https://', 'https://evil.example@')),
  certUrlCase('a URL with a query', `${CERT_URL}?x=1`),
  certUrlCase('another path', CERT_URL.replace('/SimpleNotificationService-', '/x/SimpleNotificationService-')),
  certUrlCase('an upper-case host', CERT_URL.replace('sns.us-east-1', 'SNS.us-east-1')),
  certUrlCase('a percent-escaped path', CERT_URL.replace('Service-', 'Service%2D')),
  {
    name: 'refuses a message from an unlisted topic before fetching anything',
    body: (h) =>
      snsBody(h.sign(notification(SES_BOUNCE, now(h), { TopicArn: 'arn:aws:sns:us-east-1:999999999999:attacker' }))),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'topic-not-listed',
    ingested: 0,
    fetched: 0,
  },
  {
    name: 'refuses a stale message (published two hours ago)',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h) - 2 * HOUR))),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'stale',
    ingested: 0,
    fetched: 0,
  },
  {
    name: 'refuses a message stamped an hour in the future',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h) + HOUR))),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'from-the-future',
    ingested: 0,
  },
  {
    name: 'accepts a message stamped two minutes in the future (clock skew)',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h) + 120_000))),
    status: 200,
    ingested: 1,
  },
  {
    name: 'refuses a Timestamp that is not ISO 8601 UTC',
    body: (h) => snsBody(h.sign(notification(SES_BOUNCE, now(h), { Timestamp: new Date(now(h)).toUTCString() }))),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'bad-timestamp',
    ingested: 0,
  },
  {
    name: 'refuses a body that is JSON but not an SNS message',
    body: () => JSON.stringify(['Type', 'Notification']),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'malformed',
    ingested: 0,
  },
  {
    name: 'refuses a field of the wrong type',
    body: (h) => snsBody({ ...h.sign(notification(SES_BOUNCE, now(h))), MessageId: 42 as unknown as string }),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'malformed',
    ingested: 0,
  },
  {
    name: 'answers 400 INVALID_JSON to garbage',
    body: () => '{"Type":"Notification",',
    status: 400,
    code: 'INVALID_JSON',
    ingested: 0,
  },
  {
    name: 'answers 400 INVALID_JSON to bytes that are not UTF-8',
    body: () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    status: 400,
    code: 'INVALID_JSON',
    ingested: 0,
  },
  {
    name: 'acknowledges a genuine notification whose Message is not JSON (SES’s set-up test message), ingests nothing',
    body: (h) =>
      snsBody(h.sign(notification('Successfully validated SNS topic for Amazon SES event publishing.', now(h)))),
    status: 200,
    ingested: 0,
  },
  {
    name: 'answers 503 when the signing certificate cannot be fetched (SNS retries)',
    body: (h) =>
      snsBody(
        h.sign(notification(SES_BOUNCE, now(h)), {
          certUrl: CERT_URL.replace('0123456789abcdef0123', 'ffffffffffffffffffff'),
        }),
      ),
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    ingested: 0,
    fetched: 1,
  },
  {
    name: 'refuses a listed topic’s confirmation whose SubscribeURL points elsewhere',
    body: (h) =>
      snsBody(
        h.sign({
          ...confirmation(now(h)),
          SubscribeURL: 'https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription',
        }),
      ),
    status: 403,
    code: 'INVALID_SIGNATURE',
    reason: 'untrusted-subscribe-url',
    ingested: 0,
    fetched: 0,
  },
];
