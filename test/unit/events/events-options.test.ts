// resolveEventsOptions() / resolveGuardOptions(): defaults, and a TypeError that says how to fix each mistake.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/events/duration.js';
import { resolveEventsOptions, resolveGuardOptions } from '../../../src/events/events-options.js';

const ARN = 'arn:aws:sns:us-east-1:123456789012:ses-events';
const DAY = 86_400_000;

describe('resolveEventsOptions', () => {
  it('defaults: no SNS route, 14 days of retention (router.ingest still works)', () => {
    expect(resolveEventsOptions(undefined)).toEqual({ retentionMs: 14 * DAY });
    expect(resolveEventsOptions({})).toEqual({ retentionMs: 14 * DAY });
  });

  it('takes topics (deduplicated), the two replacements and a retention', () => {
    const fetchCertificate = async () => '';
    const config = resolveEventsOptions({
      sns: { topicArns: [ARN, ARN, 'arn:aws-cn:sns:cn-north-1:123456789012:t'], fetchCertificate },
      retention: '30d',
    });
    expect(config).toEqual({
      retentionMs: 30 * DAY,
      sns: {
        topicArns: [ARN, 'arn:aws-cn:sns:cn-north-1:123456789012:t'],
        fetchCertificate,
        confirmSubscription: undefined,
      },
    });
  });

  const mistakes: [string, unknown, RegExp][] = [
    ['not an object', 'sns', /"events" must be an object/],
    ['an unknown key', { sns: { topicArns: [ARN] }, retension: '1d' }, /unknown option "retension" in events/],
    ['sns not an object', { sns: [ARN] }, /"events.sns" must be an object/],
    ['no topics', { sns: {} }, /topicArns must list the SNS topic ARNs/],
    ['an empty list', { sns: { topicArns: [] } }, /topicArns must list/],
    [
      'a topic name instead of an ARN',
      { sns: { topicArns: ['ses-events'] } },
      /topicArns\[0\] must be an SNS topic ARN such as/,
    ],
    ['an SQS ARN', { sns: { topicArns: ['arn:aws:sqs:us-east-1:123456789012:q'] } }, /topicArns\[0\]/],
    ['a wildcard', { sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:*'] } }, /topicArns\[0\]/],
    [
      'a China region in the aws partition',
      { sns: { topicArns: ['arn:aws:sns:cn-north-1:123456789012:t'] } },
      /topicArns\[0\]/,
    ],
    ['a FIFO topic', { sns: { topicArns: [`${ARN}.fifo`] } }, /FIFO topic; SNS delivers only standard topics/],
    ['an unknown sns key', { sns: { topicArns: [ARN], topicArn: ARN } }, /unknown option "topicArn" in events.sns/],
    [
      'fetchCertificate not a function',
      { sns: { topicArns: [ARN], fetchCertificate: 'x' } },
      /fetchCertificate must be a function/,
    ],
    ['retention as a number', { retention: 14 }, /"events.retention" must be a duration such as '14d'/],
    ['retention in weeks', { retention: '2w' }, /must be a duration/],
    ['retention too short', { retention: '10m' }, /between '1h' and '400d'/],
  ];
  it.each(mistakes)('refuses %s', (_name, value, message) => {
    expect(() => resolveEventsOptions(value as never)).toThrow(TypeError);
    expect(() => resolveEventsOptions(value as never)).toThrow(message);
  });
});

describe('resolveGuardOptions', () => {
  it('defaults: 5 % bounces, 0.1 % complaints, 500 messages, 24 h; false turns it off', () => {
    expect(resolveGuardOptions(undefined)).toEqual({
      bounceRate: 0.05,
      complaintRate: 0.001,
      minMessages: 500,
      windowMs: DAY,
    });
    expect(resolveGuardOptions(false)).toBeUndefined();
    expect(resolveGuardOptions({ bounceRate: 0.02, window: '6h' })).toMatchObject({
      bounceRate: 0.02,
      complaintRate: 0.001,
      windowMs: 6 * 3_600_000,
    });
  });

  const mistakes: [string, unknown, RegExp][] = [
    ['true', true, /"guard" must be an object/],
    ['a percentage', { bounceRate: 5 }, /"guard.bounceRate" must be a fraction between 0 and 1 \(0.05 is 5 %\)/],
    ['zero', { complaintRate: 0 }, /guard.complaintRate/],
    ['a fractional minimum', { minMessages: 10.5 }, /"guard.minMessages" must be a positive whole number/],
    ['a window in ms', { window: 86_400_000 }, /"guard.window" must be a duration/],
    ['a window of a minute', { window: '1m' }, /between '1h' and '30d'/],
    ['an unknown key', { bounce: 0.1 }, /unknown option "bounce" in guard/],
  ];
  it.each(mistakes)('refuses %s', (_name, value, message) => {
    expect(() => resolveGuardOptions(value as never)).toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    ['14d', 14 * DAY],
    ['24h', DAY],
    ['90m', 5_400_000],
    ['1.5h', 5_400_000],
    ['30s', 30_000],
    ['250ms', 250],
    [' 2 d ', 2 * DAY],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'd', '14', '-1d', '1w', '0s', '1e3s', 14, null])('refuses %s', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
