// normaliseSesEvent(): every SES event type (fixtures in AWS's documented shapes), envelopes, and hostile input.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_RECIPIENTS, normaliseSesEvent, sesTime } from '../../../src/events/ses-event.js';

const DIR = new URL('../../fixtures/ses-events/', import.meta.url);
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8'));
const MID = '0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000';
const ADA = ['ada@example.org'];

/** Fixture → the update it must normalise to (every field but `key`). */
const EXPECTED: Record<string, object> = {
  'bounce-permanent': {
    type: 'Bounce',
    at: '2026-11-30T09:15:04.330Z',
    recipients: ADA,
    status: 'BOUNCED',
    detail: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      diagnosticCode: 'smtp; 550 5.1.1 <ada@example.org>: Recipient address rejected: User unknown',
      smtpStatus: '5.1.1',
    },
    suppress: ADA,
    reputation: { bounced: 1 },
  },
  'bounce-transient': {
    type: 'Bounce',
    at: '2026-11-30T21:15:04.000Z',
    recipients: ADA,
    status: 'BOUNCED',
    detail: {
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      diagnosticCode: 'smtp; 452 4.2.2 Mailbox full',
      smtpStatus: '4.2.2',
    },
  },
  'bounce-on-account-suppression-list': {
    type: 'Bounce',
    at: '2026-11-30T09:15:02.500Z',
    recipients: ADA,
    status: 'BOUNCED',
    detail: {
      bounceType: 'Permanent',
      bounceSubType: 'OnAccountSuppressionList',
      diagnosticCode:
        'Amazon SES did not send the message to this address because it is on the suppression list for your account.',
      smtpStatus: '5.1.1',
    },
    suppress: ADA,
  },
  'bounce-identity-two-recipients': {
    type: 'Bounce',
    at: '2026-11-30T09:20:11.000Z',
    recipients: ['grace@example.org', 'linus@example.net'],
    status: 'BOUNCED',
    detail: { bounceType: 'Permanent', bounceSubType: 'General' },
    suppress: ['grace@example.org', 'linus@example.net'],
    reputation: { bounced: 2 },
  },
  complaint: {
    type: 'Complaint',
    at: '2026-12-01T07:02:44.000Z',
    recipients: ADA,
    status: 'COMPLAINED',
    detail: { complaintFeedbackType: 'abuse' },
    suppress: ADA,
    reputation: { complained: 1 },
  },
  'complaint-identity-no-feedback-report': {
    type: 'Complaint',
    at: '2026-12-01T12:02:44.000Z',
    recipients: ADA,
    status: 'COMPLAINED',
    suppress: ADA,
    reputation: { complained: 1 },
  },
  'complaint-not-spam': {
    type: 'Complaint',
    at: '2026-12-01T08:00:00.000Z',
    recipients: ADA,
    detail: { complaintFeedbackType: 'not-spam' },
  },
  delivery: {
    type: 'Delivery',
    at: '2026-11-30T09:15:03.901Z',
    recipients: ADA,
    status: 'DELIVERED',
    detail: { smtpResponse: '250 2.0.0 OK  1701335703 a1-20020a05' },
    reputation: { delivered: 1 },
  },
  'delivery-identity': {
    type: 'Delivery',
    at: '2026-11-30T09:15:03.901Z',
    recipients: ADA,
    status: 'DELIVERED',
    detail: { smtpResponse: '250 ok: Message 4711 accepted' },
    reputation: { delivered: 1 },
  },
  send: { type: 'Send', at: '2026-11-30T09:15:02.118Z', recipients: ADA },
  reject: {
    type: 'Reject',
    at: '2026-11-30T09:15:02.250Z',
    recipients: ADA,
    status: 'REJECTED',
    detail: { reason: 'Bad content' },
  },
  open: { type: 'Open', at: '2026-11-30T10:02:17.512Z', recipients: ADA, opened: true },
  click: {
    type: 'Click',
    at: '2026-11-30T10:02:31.077Z',
    recipients: ADA,
    clicked: true,
    link: 'https://sender.example/articles/winter-tyres?utm_source=digest',
  },
  'rendering-failure': {
    type: 'Rendering Failure',
    at: '2026-11-30T09:15:02.118Z',
    recipients: ADA,
    status: 'RENDERING_FAILURE',
    detail: {
      errorMessage: "Attribute 'firstName' is not present in the rendering data.",
      templateName: 'november-digest',
    },
  },
  'delivery-delay': {
    type: 'DeliveryDelay',
    at: '2026-11-30T09:25:02.004Z',
    recipients: ADA,
    status: 'DELAYED',
    detail: {
      delayType: 'TransientCommunicationFailure',
      expirationTime: '2026-12-01T09:15:02.118Z',
      diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host',
      smtpStatus: '4.4.1',
    },
  },
  'subscription-unsubscribe-all': {
    type: 'Subscription',
    at: '2026-11-30T11:40:09.300Z',
    recipients: ADA,
    suppress: ADA,
  },
  'subscription-one-topic': { type: 'Subscription', at: '2026-11-30T11:41:00.000Z', recipients: ADA },
};

describe('normaliseSesEvent: one fixture per event shape', () => {
  it('has an expectation for every fixture file and a fixture for every SES event type', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
    expect([...files].sort()).toEqual([...Object.keys(EXPECTED), 'eventbridge-bounce'].sort());
    const types = new Set(Object.values(EXPECTED).map((e) => (e as { type: string }).type));
    expect([...types].sort()).toEqual(
      [
        'Bounce',
        'Click',
        'Complaint',
        'Delivery',
        'DeliveryDelay',
        'Open',
        'Reject',
        'Rendering Failure',
        'Send',
        'Subscription',
      ].sort(),
    );
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, () => {
      const result = normaliseSesEvent(fixture(name));
      if (!result.ok) throw new Error(result.reason);
      const { key, ...rest } = result.update;
      expect(rest).toEqual({ messageId: MID, ...expected });
      expect(key).toMatch(/^[A-Za-z0-9_-]{16}$/);
    });
  }

  it('gives each event its own key, and a repeat of an event the same key', () => {
    const keyOf = (name: string) => {
      const result = normaliseSesEvent(fixture(name));
      return result.ok ? result.update.key : name;
    };
    // One delivery reported both by event publishing and by identity notifications is one event: counted once.
    expect(keyOf('delivery')).toBe(keyOf('delivery-identity'));
    const keys = Object.keys(EXPECTED)
      .filter((name) => name !== 'delivery-identity')
      .map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    const again = normaliseSesEvent(JSON.parse(JSON.stringify(fixture('open'))));
    expect(again.ok && again.update.key).toBe(keyOf('open'));
  });

  it('gives two opens of one message at different times different keys', () => {
    const open = fixture('open');
    const later = { ...open, open: { ...(open.open as object), timestamp: '2026-11-30T18:00:00.000Z' } };
    const [a, b] = [normaliseSesEvent(open), normaliseSesEvent(later)];
    expect(a.ok && b.ok && a.update.key !== b.update.key).toBe(true);
  });
});

describe('normaliseSesEvent: envelopes (router.ingest takes the event as the app received it)', () => {
  const bounce = normaliseSesEvent(fixture('bounce-permanent'));

  it.each([
    ['an EventBridge event', fixture('eventbridge-bounce')],
    ['a JSON string (an SQS body)', JSON.stringify(fixture('bounce-permanent'))],
    ['an SNS notification (SNS → SQS)', { Type: 'Notification', Message: JSON.stringify(fixture('bounce-permanent')) }],
    [
      'an SNS notification as an SQS body string',
      JSON.stringify({ Type: 'Notification', Message: JSON.stringify(fixture('bounce-permanent')) }),
    ],
    ['a Lambda SNS record', { EventSource: 'aws:sns', Sns: { Message: JSON.stringify(fixture('bounce-permanent')) } }],
  ])('unwraps %s', (_name, input) => {
    expect(normaliseSesEvent(input)).toEqual(bounce);
  });
});

describe('normaliseSesEvent: odd input is ignored with a reason, never thrown', () => {
  const bounce = fixture('bounce-permanent');
  const mail = bounce.mail as Record<string, unknown>;
  const cases: [string, unknown, RegExp][] = [
    ['undefined', undefined, /not an SES event/],
    ['null', null, /not an SES event/],
    ['a number', 42, /not an SES event/],
    ['an array', [bounce], /not an SES event/],
    ['text that is not JSON', 'Successfully validated SNS topic for Amazon SES event publishing.', /not an SES event/],
    ['no type', { mail }, /no eventType/],
    ['an unknown type', { ...bounce, eventType: 'Teleport' }, /"Teleport" is not handled/],
    ['an inbound mail notification', { notificationType: 'Received', mail }, /"Received" is not handled/],
    ['SES’s subscription notice', { notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'x' }, /not handled/],
    ['a type that is not a string', { ...bounce, eventType: ['Bounce'] }, /no eventType/],
    ['no mail', { ...bounce, mail: undefined }, /mail.messageId/],
    ['mail that is an array', { ...bounce, mail: [mail] }, /mail.messageId/],
    ['no messageId', { ...bounce, mail: { ...mail, messageId: undefined } }, /mail.messageId/],
    ['a messageId with spaces', { ...bounce, mail: { ...mail, messageId: 'a b' } }, /mail.messageId/],
    [
      'a messageId of 10,000 characters',
      { ...bounce, mail: { ...mail, messageId: 'x'.repeat(10_000) } },
      /mail.messageId/,
    ],
    ['a bounce without bounce', { ...bounce, bounce: undefined }, /no bounced recipient/],
    ['a bounce with no recipients', { ...bounce, bounce: { bounceType: 'Permanent' } }, /no bounced recipient/],
    [
      'a bounce whose recipients are not addresses',
      { ...bounce, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'nobody' }, 'x@y', 7] } },
      /no bounced recipient/,
    ],
    [
      'a bounce with no valid time anywhere',
      {
        ...bounce,
        bounce: { ...(bounce.bounce as object), timestamp: 'yesterday' },
        mail: { ...mail, timestamp: '2026-02-30T00:00:00Z' },
      },
      /valid timestamp/,
    ],
    ['a complaint with no recipients', { eventType: 'Complaint', mail, complaint: {} }, /no complained recipient/],
    ['a delivery without delivery', { eventType: 'Delivery', mail }, /Delivery event names no recipient/],
    ['an open without open', { eventType: 'Open', mail }, /without open/],
    ['a click without click', { eventType: 'Click', mail }, /without click/],
    ['a delay without deliveryDelay', { eventType: 'DeliveryDelay', mail }, /without deliveryDelay/],
    ['a subscription without subscription', { eventType: 'Subscription', mail }, /without subscription/],
    ['a prototype-polluting mail', JSON.parse('{"eventType":"Send","__proto__":{"mail":{"messageId":"x"}}}'), /mail/],
  ];
  it.each(cases)('%s', (_name, input, reason) => {
    const result = normaliseSesEvent(input);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(reason);
  });

  it('falls back to mail.timestamp when the event has none', () => {
    const result = normaliseSesEvent({ ...bounce, bounce: { ...(bounce.bounce as object), timestamp: undefined } });
    expect(result.ok && result.update.at).toBe('2026-11-30T09:15:02.118Z');
  });

  it(`caps recipients at ${MAX_EVENT_RECIPIENTS}, and scans a bounded part of a huge list`, () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ emailAddress: `r${i}@example.org` }));
    const started = performance.now();
    const result = normaliseSesEvent({ ...bounce, bounce: { bounceType: 'Permanent', bouncedRecipients: many } });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.ok && result.update.recipients).toHaveLength(MAX_EVENT_RECIPIENTS);
    expect(result.ok && result.update.suppress).toHaveLength(MAX_EVENT_RECIPIENTS);
  });

  it('trims long texts (diagnostic codes, links)', () => {
    const long = 'x'.repeat(100_000);
    const result = normaliseSesEvent({
      ...bounce,
      bounce: {
        bounceType: 'Permanent',
        bouncedRecipients: [{ emailAddress: 'ada@example.org', diagnosticCode: long }],
      },
    });
    expect(result.ok && result.update.detail?.diagnosticCode).toHaveLength(1000);
    const click = normaliseSesEvent({ eventType: 'Click', mail, click: { link: long, timestamp: mail.timestamp } });
    expect(click.ok && click.update.link).toHaveLength(2048);
  });

  it('normalises addresses as the suppression list compares them (display names, case, duplicates)', () => {
    const result = normaliseSesEvent({
      eventType: 'Delivery',
      mail,
      delivery: {
        timestamp: mail.timestamp,
        recipients: ['"Ada L." <Ada@Example.ORG>', 'ada@example.org', 'bad address@x', '<>'],
      },
    });
    expect(result.ok && result.update.recipients).toEqual(['ada@example.org']);
  });

  it('suppresses nobody for an unsubscribe-all from a message with several recipients (who it was is unknown)', () => {
    const sub = fixture('subscription-unsubscribe-all');
    const result = normaliseSesEvent({
      ...sub,
      mail: { ...(sub.mail as object), destination: ['a@example.org', 'b@example.org'] },
    });
    expect(result.ok && result.update.suppress).toBeUndefined();
  });

  it('ignores unknown fields', () => {
    const result = normaliseSesEvent({ ...bounce, surprise: { deeply: ['nested'] }, mail: { ...mail, extra: 1 } });
    expect(result).toEqual(normaliseSesEvent(bounce));
  });
});

describe('sesTime', () => {
  it.each([
    ['2017-08-05T00:41:02.669Z', '2017-08-05T00:41:02.669Z'],
    ['2018-10-08T14:05:45 +0000', '2018-10-08T14:05:45.000Z'],
    ['2009-12-03T04:24:21.000-05:00', '2009-12-03T09:24:21.000Z'],
    ['2024-04-25T18:08:04.933666+03:00', '2024-04-25T15:08:04.933Z'],
    ['2026-01-01T00:00:00', '2026-01-01T00:00:00.000Z'],
  ])('reads %s', (input, output) => {
    expect(sesTime(input)).toBe(output);
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-01-01T24:00:00Z',
    'yesterday',
    '',
    1700000000000,
    null,
    `2026-01-01T00:00:00Z${' '.repeat(80)}`,
  ])('refuses %s', (input) => {
    expect(sesTime(input)).toBeUndefined();
  });
});
