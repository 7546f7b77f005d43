// Unit tests: the pure per-entry plans made from an SES answer or a whole-call error.
import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/sending/classify.js';
import { type CallEntry, planFromAnswer, planFromError } from '../../../src/sending/outcomes.js';
import { nodeError, sesError } from '../../helpers/fake-ses.js';

const items = (attempts: number[]): CallEntry[] =>
  attempts.map((a, index) => ({ index, entry: { Destination: { ToAddresses: [`r${index}@x.test`] } }, attempts: a }));

describe('planFromAnswer', () => {
  it('SUCCESS final with its message id; retryable ones PENDING and resent; final ones final', () => {
    const plan = planFromAnswer(
      items([1, 1, 1, 1]),
      [
        { Status: 'SUCCESS', MessageId: 'm0' },
        { Status: 'TRANSIENT_FAILURE', Error: 'try again' },
        { Status: 'ACCOUNT_THROTTLED' },
        { Status: 'MESSAGE_REJECTED', Error: 'virus' },
      ],
      6,
    );
    expect(plan.results).toEqual([
      { index: 0, status: 'SUCCESS', messageId: 'm0', attempts: 1 },
      { index: 1, status: 'PENDING', error: { code: 'TRANSIENT_FAILURE', message: 'try again' }, attempts: 1 },
      {
        index: 2,
        status: 'PENDING',
        error: { code: 'ACCOUNT_THROTTLED', message: 'SES answered ACCOUNT_THROTTLED' },
        attempts: 1,
      },
      { index: 3, status: 'MESSAGE_REJECTED', error: { code: 'MESSAGE_REJECTED', message: 'virus' }, attempts: 1 },
    ]);
    expect(plan.retry.map((i) => i.index)).toEqual([1, 2]);
    expect(plan.throttled).toBe(true);
    expect(plan.counts).toEqual({ succeeded: 1, failed: 1, retrying: 2 });
    expect(plan.reason).toBe('TRANSIENT_FAILURE,ACCOUNT_THROTTLED');
    expect(plan.fatal).toBeUndefined();
  });

  it('out of attempts: the retryable status becomes final', () => {
    const plan = planFromAnswer(items([6]), [{ Status: 'FAILED', Error: 'boom' }], 6);
    expect(plan.results).toEqual([
      { index: 0, status: 'FAILED', error: { code: 'FAILED', message: 'boom' }, attempts: 6 },
    ]);
    expect(plan.retry).toEqual([]);
  });

  it('a fatal status is final and fails the job; a paused one is held without counting the attempt', () => {
    const plan = planFromAnswer(
      items([1, 3]),
      [{ Status: 'CONFIGURATION_SET_DOES_NOT_EXIST' as never, Error: 'no cs' }, { Status: 'ACCOUNT_SENDING_PAUSED' }],
      6,
    );
    expect(plan.results).toEqual([
      {
        index: 0,
        status: 'CONFIGURATION_SET_NOT_FOUND',
        error: { code: 'CONFIGURATION_SET_NOT_FOUND', message: 'no cs' },
        attempts: 1,
      },
      {
        index: 1,
        status: 'PENDING',
        error: { code: 'ACCOUNT_SENDING_PAUSED', message: 'SES answered ACCOUNT_SENDING_PAUSED' },
        attempts: 2,
      },
    ]);
    expect(plan.fatal).toEqual({ code: 'CONFIGURATION_SET_NOT_FOUND', message: 'no cs' });
    expect(plan.held.map((i) => [i.index, i.attempts])).toEqual([[1, 2]]);
    expect(plan.hold).toBe('paused');
  });

  it('ACCOUNT_DAILY_QUOTA_EXCEEDED is held for the quota', () => {
    const plan = planFromAnswer(items([1]), [{ Status: 'ACCOUNT_DAILY_QUOTA_EXCEEDED' }], 6);
    expect(plan.hold).toBe('quota');
    expect(plan.results[0]).toMatchObject({ status: 'PENDING', attempts: 0 });
  });

  it('a missing answer is UNKNOWN; SES texts are scrubbed of addresses and ports', () => {
    const plan = planFromAnswer(
      items([1, 1, 1]),
      [
        { Status: 'SUCCESS', MessageId: 'm' },
        { Status: 'MESSAGE_REJECTED', Error: 'relay 10.0.0.7:25 said no' },
      ],
      6,
    );
    expect(plan.results[2]).toEqual({
      index: 2,
      status: 'UNKNOWN',
      error: { code: 'SES_NO_RESULT', message: 'SES returned no result for this entry' },
      attempts: 1,
    });
    expect(plan.results[1].error?.message).toBe('relay [address] said no');
  });
});

describe('planFromError', () => {
  it('throttle: PENDING + resend + penalty, until attempts run out', () => {
    const c = classifyError(sesError('TooManyRequestsException', 429, 'slow down'));
    const plan = planFromError(items([1, 6]), c, 6, false);
    const error = { code: 'SES_THROTTLED', message: expect.stringMatching(/throttled/) };
    expect(plan.results).toEqual([
      { index: 0, status: 'PENDING', error, attempts: 1 },
      { index: 1, status: 'ACCOUNT_THROTTLED', error, attempts: 6 },
    ]);
    expect(plan.retry.map((i) => i.index)).toEqual([0]);
    expect(plan.throttled).toBe(true);
    expect(plan.counts).toEqual({ succeeded: 0, failed: 1, retrying: 1 });
    expect(plan.fatal).toBeUndefined();
  });

  it('unknown: UNKNOWN and not resent, unless atLeastOnce', () => {
    const c = classifyError(nodeError('ECONNRESET', 'socket hang up'));
    expect(planFromError(items([1]), c, 6, false).results).toEqual([
      { index: 0, status: 'UNKNOWN', error: { code: 'CONNECTION_RESET', message: expect.any(String) }, attempts: 1 },
    ]);
    const again = planFromError(items([1]), c, 6, true);
    expect(again.retry).toHaveLength(1);
    expect(again.throttled).toBe(false);
  });

  it('fatal: final with the mapped status and fails the job', () => {
    const plan = planFromError(
      items([1, 1]),
      classifyError(sesError('MailFromDomainNotVerifiedException', 400, 'nope')),
      6,
      false,
    );
    expect(plan.results.map((r) => r.status)).toEqual([
      'MAIL_FROM_DOMAIN_NOT_VERIFIED',
      'MAIL_FROM_DOMAIN_NOT_VERIFIED',
    ]);
    expect(plan.fatal).toEqual({ code: 'MAIL_FROM_DOMAIN_NOT_VERIFIED', message: 'nope' });
  });

  it('SES unreachable: retried while attempts remain, then fails the job', () => {
    const c = classifyError(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'));
    const first = planFromError(items([1]), c, 3, false);
    expect(first.retry).toHaveLength(1);
    expect(first.fatal).toBeUndefined();
    const last = planFromError(items([3]), c, 3, false);
    expect(last.fatal).toEqual({ code: 'SES_UNREACHABLE', message: 'SES unreachable' });
    expect(last.results[0]).toMatchObject({ status: 'FAILED', error: { code: 'SES_UNREACHABLE' } });
    expect(JSON.stringify([last.results, last.fatal])).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('pause: everything held, attempts not counted', () => {
    const plan = planFromError(
      items([1, 2]),
      classifyError(sesError('SendingPausedException', 400, 'paused')),
      6,
      false,
    );
    expect(plan.results.map((r) => [r.status, r.attempts])).toEqual([
      ['PENDING', 0],
      ['PENDING', 1],
    ]);
    expect(plan.held).toHaveLength(2);
    expect(plan.hold).toBe('paused');
  });

  it('final: the call’s entries fail, nothing else', () => {
    const plan = planFromError(items([1]), classifyError(sesError('MessageRejected', 400, 'bad')), 6, false);
    expect(plan).toMatchObject({ retry: [], held: [], throttled: false, counts: { failed: 1 } });
    expect(plan.results[0].status).toBe('MESSAGE_REJECTED');
    expect(plan.fatal).toBeUndefined();
  });
});
