// Unit tests: classification tables for per-entry statuses and whole-call errors (reference §4, §5, Node codes).
import { describe, expect, it } from 'vitest';
import { classifyEntryStatus, classifyError, normalizeEntryStatus, SEND_STAGE } from '../../../src/sending/classify.js';
import { nodeError, sesError } from '../../helpers/fake-ses.js';

describe('classifyEntryStatus (all 14 BulkEmailStatus values, the doc spellings, unknown ones)', () => {
  const table: Array<[string | undefined, string, string]> = [
    ['SUCCESS', 'success', 'SUCCESS'],
    ['MESSAGE_REJECTED', 'final', 'MESSAGE_REJECTED'],
    ['MAIL_FROM_DOMAIN_NOT_VERIFIED', 'fatal', 'MAIL_FROM_DOMAIN_NOT_VERIFIED'],
    ['CONFIGURATION_SET_NOT_FOUND', 'fatal', 'CONFIGURATION_SET_NOT_FOUND'],
    ['CONFIGURATION_SET_DOES_NOT_EXIST', 'fatal', 'CONFIGURATION_SET_NOT_FOUND'],
    ['TEMPLATE_NOT_FOUND', 'fatal', 'TEMPLATE_NOT_FOUND'],
    ['TEMPLATE_DOES_NOT_EXIST', 'fatal', 'TEMPLATE_NOT_FOUND'],
    ['ACCOUNT_SUSPENDED', 'fatal', 'ACCOUNT_SUSPENDED'],
    ['ACCOUNT_THROTTLED', 'retry', 'ACCOUNT_THROTTLED'],
    ['ACCOUNT_DAILY_QUOTA_EXCEEDED', 'quota', 'ACCOUNT_DAILY_QUOTA_EXCEEDED'],
    ['INVALID_SENDING_POOL_NAME', 'fatal', 'INVALID_SENDING_POOL_NAME'],
    ['ACCOUNT_SENDING_PAUSED', 'hold', 'ACCOUNT_SENDING_PAUSED'],
    ['CONFIGURATION_SET_SENDING_PAUSED', 'hold', 'CONFIGURATION_SET_SENDING_PAUSED'],
    ['INVALID_PARAMETER', 'final', 'INVALID_PARAMETER'],
    ['TRANSIENT_FAILURE', 'retry', 'TRANSIENT_FAILURE'],
    ['FAILED', 'retry', 'FAILED'],
    ['SOME_FUTURE_STATUS', 'final', 'SOME_FUTURE_STATUS'],
    [undefined, 'final', 'UNKNOWN'],
  ];
  for (const [status, kind, normalized] of table) {
    it(`${status} → ${kind} (${normalized})`, () => {
      expect(classifyEntryStatus(status)).toBe(kind);
      expect(normalizeEntryStatus(status)).toBe(normalized);
    });
  }
});

describe('classifyError: SES exceptions (reference §5)', () => {
  const table: Array<[string, number, string, string, string?]> = [
    ['TooManyRequestsException', 429, 'throttle', 'ACCOUNT_THROTTLED', 'Maximum sending rate exceeded.'],
    ['LimitExceededException', 400, 'throttle', 'ACCOUNT_THROTTLED'],
    ['ThrottlingException', 400, 'throttle', 'ACCOUNT_THROTTLED', 'Maximum sending rate exceeded.'],
    ['ThrottlingException', 400, 'quota', 'ACCOUNT_DAILY_QUOTA_EXCEEDED', 'Daily message quota exceeded.'],
    ['SomethingNew', 429, 'throttle', 'ACCOUNT_THROTTLED'],
    ['AccountSuspendedException', 400, 'fatal', 'ACCOUNT_SUSPENDED'],
    ['MailFromDomainNotVerifiedException', 400, 'fatal', 'MAIL_FROM_DOMAIN_NOT_VERIFIED'],
    ['NotFoundException', 404, 'fatal', 'TEMPLATE_NOT_FOUND', 'Template MyTemplate does not exist.'],
    ['NotFoundException', 404, 'fatal', 'CONFIGURATION_SET_NOT_FOUND', 'Configuration set cs does not exist.'],
    ['SendingPausedException', 400, 'hold', 'ACCOUNT_SENDING_PAUSED', 'Sending is paused for this account.'],
    [
      'SendingPausedException',
      400,
      'hold',
      'CONFIGURATION_SET_SENDING_PAUSED',
      'Sending is paused for this configuration set.',
    ],
    ['MessageRejected', 400, 'final', 'MESSAGE_REJECTED', 'Illegal header.'],
    ['MessageRejected', 400, 'fatal', 'MESSAGE_REJECTED', 'Email address is not verified.'],
    ['BadRequestException', 400, 'final', 'INVALID_PARAMETER'],
    ['ValidationException', 400, 'final', 'FAILED'],
    ['AccessDeniedException', 403, 'fatal', 'FAILED'],
    ['UnrecognizedClientException', 403, 'fatal', 'FAILED', 'The security token included in the request is invalid.'],
    ['InvalidClientTokenId', 403, 'fatal', 'FAILED'],
    ['SignatureDoesNotMatch', 403, 'fatal', 'FAILED'],
    ['ExpiredTokenException', 400, 'fatal', 'FAILED'],
    ['SomethingForbidden', 403, 'fatal', 'FAILED'],
    ['InternalServiceErrorException', 500, 'retry', 'TRANSIENT_FAILURE'],
    ['ServiceUnavailable', 503, 'retry', 'TRANSIENT_FAILURE'],
    ['Unknown', 502, 'retry', 'TRANSIENT_FAILURE'],
    ['Unknown', 504, 'retry', 'TRANSIENT_FAILURE'],
  ];
  for (const [name, status, kind, entryStatus, message] of table) {
    it(`${name} (HTTP ${status}${message ? `, "${message}"` : ''}) → ${kind}`, () => {
      const c = classifyError(sesError(name, status, message));
      expect(c).toMatchObject({ kind, status: entryStatus, code: name, httpStatus: status, requestId: 'err-req' });
    });
  }

  it('tells clients a fixed code and a clean message for the job-fatal classes', () => {
    const table: Array<[unknown, string]> = [
      [
        sesError('UnrecognizedClientException', 403, 'The security token included in the request is invalid.'),
        'SES_CREDENTIALS',
      ],
      [sesError('AccessDeniedException', 403, 'User arn:aws:iam::1:user/x is not authorized'), 'SES_ACCESS_DENIED'],
      [
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
        'SES_CREDENTIALS',
      ],
      [sesError('AccountSuspendedException', 400, 'Account suspended'), 'ACCOUNT_SUSPENDED'],
    ];
    for (const [err, code] of table) {
      const c = classifyError(err);
      expect(c.kind).toBe('fatal');
      expect(c.error.code).toBe(code);
    }
  });

  it('"not verified" is job-fatal only when it is about the sender', () => {
    const about = (who: string) =>
      sesError(
        'MessageRejected',
        400,
        `Email address is not verified. The following identities failed the check in region US-EAST-1: ${who}`,
      );
    const from = { from: 'News <news@brand.example>' };
    expect(classifyError(about('news@brand.example'), from)).toMatchObject({
      kind: 'fatal',
      error: { code: 'SES_IDENTITY_NOT_VERIFIED' },
    });
    expect(classifyError(about('brand.example'), from).kind).toBe('fatal');
    expect(classifyError(about('someone@else.example'), from)).toMatchObject({
      kind: 'final',
      status: 'MESSAGE_REJECTED',
    });
  });

  it('client-visible messages carry no host, IP address or port', () => {
    const errs = [
      nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND email.internal.corp'),
      nodeError('ECONNRESET', 'read ECONNRESET 10.1.2.3:443'),
      sesError('Unknown', 502, 'Bad gateway from http://10.0.0.1:8080/v2/email'),
      sesError('ValidationException', 400, 'endpoint ses.internal:4566 refused [::1]:4566'),
    ];
    for (const err of errs) {
      const { error } = classifyError(err);
      expect(error.message).not.toMatch(/127\.0\.0\.1|10\.\d|internal|:\d{2,5}|::1|http/);
    }
    expect(classifyError(errs[0]).error).toEqual({ code: 'SES_UNREACHABLE', message: 'SES unreachable' });
  });

  it('recognises modeled names without an HTTP status and never needs instanceof', () => {
    expect(classifyError({ name: 'TooManyRequestsException', message: 'x', $metadata: {} }).kind).toBe('throttle');
    expect(classifyError({ name: 'AccountSuspendedException', message: 'x' }).kind).toBe('fatal');
    expect(classifyError({ name: 'InternalServiceErrorException', message: 'x' }).kind).toBe('retry');
  });

  it('reads the emulator’s untyped errors (name Unknown, type in the body)', () => {
    const err = Object.assign(sesError('Unknown', 404, 'Not Found'), { type: 'NotFoundException' });
    expect(classifyError(err)).toMatchObject({
      kind: 'fatal',
      code: 'NotFoundException',
      status: 'TEMPLATE_NOT_FOUND',
    });
  });

  it('an error with a 2xx status (an answer the SDK could not read) is an unknown outcome', () => {
    expect(classifyError(sesError('Unknown', 200, 'Deserialization error')).kind).toBe('unknown');
  });
});

describe('classifyError: no answer (Node codes and the send stage)', () => {
  const neverLeft = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];
  for (const code of neverLeft) {
    it(`${code} → retry (the request never left)`, () => {
      expect(classifyError(nodeError(code))).toMatchObject({
        kind: 'retry',
        code,
        status: 'FAILED',
        fatalWhenExhausted: true,
        error: { code: 'SES_UNREACHABLE' },
      });
    });
  }

  const maybeLeft: Array<[string, Error]> = [
    ['ECONNRESET', Object.assign(nodeError('ECONNRESET', 'read ECONNRESET'), { name: 'TimeoutError' })],
    ['ECONNRESET', nodeError('ECONNRESET', 'socket hang up')],
    ['EPIPE', nodeError('EPIPE', 'write EPIPE')],
    [
      'ETIMEDOUT',
      Object.assign(nodeError('ETIMEDOUT', 'a request has exceeded the configured 5000 ms requestTimeout'), {
        name: 'TimeoutError',
      }),
    ],
    [
      'TimeoutError',
      Object.assign(new Error('socket timed out after 3000 ms of inactivity'), { name: 'TimeoutError' }),
    ],
    ['AbortError', Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
    ['Error', new Error('something odd')],
  ];
  for (const [code, err] of maybeLeft) {
    it(`${code} "${err.message}" → unknown without stage information`, () => {
      expect(classifyError(err)).toMatchObject({ kind: 'unknown', code, status: 'UNKNOWN' });
    });
  }

  it('an abort caused by our call timeout has code TimeoutError', () => {
    const cause = Object.assign(new Error('SES did not answer within 100 ms'), { name: 'TimeoutError' });
    const err = Object.assign(new Error('Request aborted'), { name: 'AbortError', cause });
    expect(classifyError(err)).toMatchObject({ kind: 'unknown', code: 'TimeoutError' });
  });

  it('a connection timeout (no socket ever connected) → retry', () => {
    const err = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.',
      ),
      { name: 'TimeoutError' },
    );
    expect(classifyError(err).kind).toBe('retry');
  });

  it('uses the send stage: before the handler or not connected → retry; connected → unknown', () => {
    const staged = (err: Error, stage: string) => Object.defineProperty(err, SEND_STAGE, { value: stage });
    expect(classifyError(staged(new Error('Could not load credentials'), 'before-handler')).kind).toBe('retry');
    expect(
      classifyError(staged(Object.assign(new Error('Request aborted'), { name: 'AbortError' }), 'not-connected')).kind,
    ).toBe('retry');
    expect(classifyError(staged(nodeError('ECONNRESET'), 'not-connected')).kind).toBe('retry');
    expect(classifyError(staged(nodeError('ECONNRESET'), 'connected')).kind).toBe('unknown');
    expect(
      classifyError(staged(Object.assign(new Error('Request aborted'), { name: 'AbortError' }), 'connected')).kind,
    ).toBe('unknown');
    // An SES answer wins over any stage.
    expect(classifyError(staged(sesError('BadRequestException', 400), 'connected')).kind).toBe('final');
  });

  it('survives non-Error throws', () => {
    expect(classifyError('boom')).toMatchObject({ kind: 'unknown', message: 'boom' });
    expect(classifyError(null).kind).toBe('unknown');
  });
});
