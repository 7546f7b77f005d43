// The reputation guard's arithmetic and the suppression rule: tables of counts, windows and events.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GUARD,
  GUARD_BUCKETS,
  type GuardBucket,
  type GuardCounts,
  guardBucketStart,
  guardRates,
  guardVerdict,
  recordGuardCounts,
} from '../../../src/events/reputation-guard.js';
import { normaliseSesEvent } from '../../../src/events/ses-event.js';
import { suppressionsFor } from '../../../src/events/suppression-rule.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1);
const config = DEFAULT_GUARD;

const verdictOf = (counts: Partial<GuardCounts>, over: Partial<typeof config> = {}) =>
  guardVerdict(guardRates(recordGuardCounts([], T0, counts, config), T0, config), { ...config, ...over });

describe('guardVerdict (defaults: 5 % bounces, 0.1 % complaints, 500 messages, 24 h)', () => {
  const cases: [string, Partial<GuardCounts>, false | 'BOUNCE_RATE' | 'COMPLAINT_RATE'][] = [
    ['nothing sent', {}, false],
    ['499 messages, all bounced: too few to judge', { sent: 499, bounced: 499 }, false],
    ['500 sent, 24 bounced (4.8 %)', { sent: 500, bounced: 24 }, false],
    ['500 sent, 25 bounced (5.0 %): at the line', { sent: 500, bounced: 25 }, 'BOUNCE_RATE'],
    ['500 sent, 26 bounced (5.2 %)', { sent: 500, bounced: 26 }, 'BOUNCE_RATE'],
    ['10,000 sent, 9 complaints (0.09 %)', { sent: 10_000, complained: 9 }, false],
    ['10,000 sent, 10 complaints (0.1 %)', { sent: 10_000, complained: 10 }, 'COMPLAINT_RATE'],
    ['500 sent, 1 complaint (0.2 %)', { sent: 500, complained: 1 }, 'COMPLAINT_RATE'],
    ['both over: bounces named first', { sent: 1000, bounced: 100, complained: 100 }, 'BOUNCE_RATE'],
    [
      'sends not counted (events only): delivered + bounced is the denominator',
      { delivered: 475, bounced: 25 },
      'BOUNCE_RATE',
    ],
    ['more outcomes than sends known: outcomes count', { sent: 100, delivered: 980, bounced: 20 }, false],
  ];
  it.each(cases)('%s', (_name, counts, expected) => {
    const verdict = verdictOf(counts);
    expect(verdict.pause && verdict.reason).toBe(expected);
  });

  it('reports the rates it judged', () => {
    expect(verdictOf({ sent: 1000, delivered: 900, bounced: 60, complained: 2 }).rates).toEqual({
      sent: 1000,
      delivered: 900,
      bounced: 60,
      complained: 2,
      messages: 1000,
      bounceRate: 0.06,
      complaintRate: 0.002,
    });
  });

  it('follows the configured thresholds', () => {
    expect(verdictOf({ sent: 100, bounced: 3 }, { minMessages: 100, bounceRate: 0.03 }).pause).toBe(true);
    expect(verdictOf({ sent: 100, bounced: 3 }, { minMessages: 101, bounceRate: 0.03 }).pause).toBe(false);
  });
});

describe('rolling window', () => {
  const add = (buckets: GuardBucket[], hoursAfter: number, counts: Partial<GuardCounts>) =>
    recordGuardCounts(buckets, T0 + hoursAfter * HOUR, counts, config);

  it('counts what happened within the window ending now, to the hour', () => {
    let buckets: GuardBucket[] = [];
    buckets = add(buckets, 0, { sent: 1000, bounced: 100 });
    buckets = add(buckets, 12, { sent: 1000 });
    expect(guardRates(buckets, T0 + 12 * HOUR, config)).toMatchObject({ sent: 2000, bounced: 100 });
    // 24 h after the first hour's bucket ended, it has left the window
    expect(guardRates(buckets, T0 + 24 * HOUR + 59 * 60_000, config)).toMatchObject({ sent: 2000, bounced: 100 });
    expect(guardRates(buckets, T0 + 25 * HOUR, config)).toMatchObject({ sent: 1000, bounced: 0 });
    expect(guardRates(buckets, T0 + 37 * HOUR, config)).toMatchObject({ sent: 0, messages: 0, bounceRate: 0 });
  });

  it('a bad hour long ago no longer pauses anyone', () => {
    let buckets = add([], 0, { sent: 500, bounced: 500 });
    expect(guardVerdict(guardRates(buckets, T0, config), config).pause).toBe(true);
    buckets = add(buckets, 30, { sent: 500 });
    expect(guardVerdict(guardRates(buckets, T0 + 30 * HOUR, config), config).pause).toBe(false);
  });

  it(`keeps at most ${GUARD_BUCKETS + 1} buckets however long it runs`, () => {
    let buckets: GuardBucket[] = [];
    for (let h = 0; h < 24 * 30; h++) buckets = add(buckets, h, { sent: 10 });
    expect(buckets.length).toBeLessThanOrEqual(GUARD_BUCKETS + 1);
    // at the start of an hour: the 24 whole hours before it, and the hour just begun
    expect(guardRates(buckets, T0 + (24 * 30 - 1) * HOUR, config).sent).toBe(250);
  });

  it('adds a late count to its own hour, and drops one older than the window', () => {
    let buckets = add([], 10, { sent: 100 });
    buckets = add(buckets, 9, { bounced: 5 });
    expect(buckets.map((b) => b.start)).toEqual([T0 + 9 * HOUR, T0 + 10 * HOUR]);
    buckets = add(buckets, -30, { bounced: 50 });
    expect(guardRates(buckets, T0 + 10 * HOUR, config).bounced).toBe(5);
  });

  it('never changes the buckets it is given, and ignores negative or odd counts', () => {
    const buckets = add([], 0, { sent: 10 });
    const copy = structuredClone(buckets);
    const next = recordGuardCounts(buckets, T0, { sent: -5, bounced: Number.NaN, complained: 1 }, config);
    expect(buckets).toEqual(copy);
    expect(next[0]).toMatchObject({ sent: 10, bounced: 0, complained: 1 });
  });

  it('cuts other windows into 24 buckets too', () => {
    const hour = { windowMs: HOUR };
    expect(guardBucketStart(T0 + 149_999, hour)).toBe(T0);
    expect(guardBucketStart(T0 + 150_000, hour)).toBe(T0 + 150_000);
  });
});

describe('what one SES event adds to the guard and the suppression list', () => {
  const mail = {
    messageId: 'm-1',
    timestamp: '2026-12-01T10:00:00.000Z',
    destination: ['a@example.org', 'b@example.org'],
  };
  const update = (event: object) => {
    const result = normaliseSesEvent({ mail, ...event });
    if (!result.ok) throw new Error(result.reason);
    return result.update;
  };
  const bounce = (bounceType: string, bounceSubType: string) =>
    update({
      eventType: 'Bounce',
      bounce: { bounceType, bounceSubType, bouncedRecipients: [{ emailAddress: 'a@example.org' }] },
    });
  const complaint = (over: object = {}) =>
    update({
      eventType: 'Complaint',
      complaint: { complainedRecipients: [{ emailAddress: 'a@example.org' }], ...over },
    });

  const cases: [string, ReturnType<typeof update>, object | undefined, string[]][] = [
    ['a hard bounce', bounce('Permanent', 'General'), { bounced: 1 }, ['BOUNCE a@example.org']],
    ['an address that does not exist', bounce('Permanent', 'NoEmail'), { bounced: 1 }, ['BOUNCE a@example.org']],
    ['SES’s global suppression list', bounce('Permanent', 'Suppressed'), { bounced: 1 }, ['BOUNCE a@example.org']],
    [
      'the account’s own suppression list (SES does not count it)',
      bounce('Permanent', 'OnAccountSuppressionList'),
      undefined,
      ['BOUNCE a@example.org'],
    ],
    ['a soft bounce SES gave up on', bounce('Transient', 'MailboxFull'), undefined, []],
    ['an out-of-office reply', bounce('Transient', 'General'), undefined, []],
    ['an undetermined bounce', bounce('Undetermined', 'Undetermined'), undefined, []],
    ['a complaint', complaint({ complaintFeedbackType: 'abuse' }), { complained: 1 }, ['COMPLAINT a@example.org']],
    ['a complaint without a feedback report', complaint(), { complained: 1 }, ['COMPLAINT a@example.org']],
    ['a not-spam report', complaint({ complaintFeedbackType: 'not-spam' }), undefined, []],
    [
      'a complaint about an address on the account suppression list',
      complaint({ complaintSubType: 'OnAccountSuppressionList' }),
      undefined,
      ['COMPLAINT a@example.org'],
    ],
    [
      'a delivery',
      update({ eventType: 'Delivery', delivery: { recipients: ['a@example.org', 'b@example.org'] } }),
      { delivered: 2 },
      [],
    ],
    ['an open', update({ eventType: 'Open', open: {} }), undefined, []],
  ];
  it.each(cases)('%s', (_name, u, reputation, suppressed) => {
    expect(u.reputation).toEqual(reputation);
    expect(suppressionsFor(u).map((s) => `${s.reason} ${s.address}`)).toEqual(suppressed);
  });

  it('suppresses only the entry’s own recipients when it knows them', () => {
    const u = update({
      eventType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bouncedRecipients: [{ emailAddress: 'a@example.org' }, { emailAddress: 'stranger@example.org' }],
      },
    });
    expect(suppressionsFor(u, ['"A" <A@Example.org>']).map((s) => s.address)).toEqual(['a@example.org']);
    expect(suppressionsFor(u).map((s) => s.address)).toEqual(['a@example.org', 'stranger@example.org']);
  });

  it('records when and which message', () => {
    expect(suppressionsFor(bounce('Permanent', 'General'))).toEqual([
      { address: 'a@example.org', reason: 'BOUNCE', at: '2026-12-01T10:00:00.000Z', messageId: 'm-1' },
    ]);
  });

  it('takes unsubscribe-all from SES list management as an unsubscribe', () => {
    const u = normaliseSesEvent({
      eventType: 'Subscription',
      mail: { ...mail, destination: ['a@example.org'] },
      subscription: { timestamp: mail.timestamp, newTopicPreferences: { unsubscribeAll: true } },
    });
    expect(u.ok && suppressionsFor(u.update).map((s) => s.reason)).toEqual(['UNSUBSCRIBE']);
  });
});
