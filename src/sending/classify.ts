// Pure classification of SES outcomes: per-entry statuses and whole-call errors → what the dispatcher does next.
import type { EntryStatus } from '../types.js';

export type EntryKind = 'success' | 'retry' | 'final' | 'fatal' | 'pause';
export type ErrorKind = 'throttle' | 'retry' | 'unknown' | 'fatal' | 'pause' | 'final';

/**
 * Where a failed call got to, attached to the error (under SEND_STAGE) by sendBulkEmailCall:
 * - `before-handler`: the error came from the SDK stack before the HTTP handler (credentials, signing, endpoint…);
 * - `not-connected`: the handler created the request but no socket to SES ever connected;
 * - `connected`: a connected socket carried the request: it may have reached SES.
 */
export type SendStage = 'before-handler' | 'not-connected' | 'connected';

export const SEND_STAGE = Symbol.for('express-bulk-email.sendStage');

export interface ErrorClass {
  kind: ErrorKind;
  /** SES exception name, Node error code, or error name. */
  code: string;
  message: string;
  /** The entry status to record when this outcome is (or becomes) final. */
  status: EntryStatus;
  httpStatus?: number;
  requestId?: string;
}

const RETRY_STATUSES = new Set(['ACCOUNT_THROTTLED', 'TRANSIENT_FAILURE', 'FAILED']);
const FATAL_STATUSES = new Set([
  'MAIL_FROM_DOMAIN_NOT_VERIFIED',
  'CONFIGURATION_SET_NOT_FOUND',
  'TEMPLATE_NOT_FOUND',
  'ACCOUNT_SUSPENDED',
  'INVALID_SENDING_POOL_NAME',
]);
const PAUSE_STATUSES = new Set([
  'ACCOUNT_SENDING_PAUSED',
  'CONFIGURATION_SET_SENDING_PAUSED',
  'ACCOUNT_DAILY_QUOTA_EXCEEDED',
]);
/** The SES docs' spellings of two statuses, mapped to the SDK's. */
export const STATUS_TWINS: Record<string, EntryStatus> = {
  CONFIGURATION_SET_DOES_NOT_EXIST: 'CONFIGURATION_SET_NOT_FOUND',
  TEMPLATE_DOES_NOT_EXIST: 'TEMPLATE_NOT_FOUND',
};

/** An SES entry status as the package records it: doc spellings → SDK twins; a missing status → UNKNOWN. */
export function normalizeEntryStatus(status: string | undefined | null): EntryStatus {
  if (status === undefined || status === null || status === '') return 'UNKNOWN';
  return STATUS_TWINS[status] ?? (status as EntryStatus);
}

/** What to do with one entry after SES answered. Unknown future statuses are final for that entry. */
export function classifyEntryStatus(status: string | undefined | null): EntryKind {
  const s = normalizeEntryStatus(status);
  if (s === 'SUCCESS') return 'success';
  if (RETRY_STATUSES.has(s)) return 'retry';
  if (FATAL_STATUSES.has(s)) return 'fatal';
  if (PAUSE_STATUSES.has(s)) return 'pause';
  // MESSAGE_REJECTED, INVALID_PARAMETER, UNKNOWN, and statuses SES adds later
  return 'final';
}

const THROTTLE_NAMES = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'TooManyRequests',
]);
/** Connection-phase failures: no socket to SES ever connected, so nothing was sent. */
const NEVER_LEFT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENETDOWN',
  'EHOSTDOWN',
]);
/** Exceptions SES answers with (§5 of the reference): recognised by name even when no HTTP status is attached. */
const SES_EXCEPTIONS = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'BadRequestException',
  'InternalServiceErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const CONNECT_TIMEOUT = /did not establish a connection/i;
const DAILY_QUOTA = /daily (message )?quota/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  type?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  [SEND_STAGE]?: SendStage;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The SES exception name: `err.name`, or (for the emulator's untyped errors, named `Unknown`) `err.type`. */
function exceptionName(e: ErrorLike): string {
  const name = str(e.name) ?? 'Error';
  return name === 'Unknown' || name === 'SESv2ServiceException' ? (str(e.type) ?? name) : name;
}

function notFoundStatus(message: string): EntryStatus {
  if (/configuration set/i.test(message)) return 'CONFIGURATION_SET_NOT_FOUND';
  if (/pool/i.test(message)) return 'INVALID_SENDING_POOL_NAME';
  return 'TEMPLATE_NOT_FOUND';
}

/** An SES answer (an HTTP status came back): decided by exception name, then status. */
function classifyAnswer(name: string, message: string, httpStatus: number): Pick<ErrorClass, 'kind' | 'status'> {
  if (THROTTLE_NAMES.has(name) || httpStatus === 429) {
    return DAILY_QUOTA.test(message)
      ? { kind: 'pause', status: 'ACCOUNT_DAILY_QUOTA_EXCEEDED' }
      : { kind: 'throttle', status: 'ACCOUNT_THROTTLED' };
  }
  if (name === 'AccountSuspendedException') return { kind: 'fatal', status: 'ACCOUNT_SUSPENDED' };
  if (name === 'MailFromDomainNotVerifiedException') return { kind: 'fatal', status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED' };
  if (name === 'NotFoundException') return { kind: 'fatal', status: notFoundStatus(message) };
  if (name === 'SendingPausedException') {
    return {
      kind: 'pause',
      status: /configuration set/i.test(message) ? 'CONFIGURATION_SET_SENDING_PAUSED' : 'ACCOUNT_SENDING_PAUSED',
    };
  }
  if (httpStatus >= 500) return { kind: 'retry', status: 'TRANSIENT_FAILURE' };
  if (httpStatus >= 400) {
    if (name === 'MessageRejected') return { kind: 'final', status: 'MESSAGE_REJECTED' };
    if (name === 'BadRequestException') return { kind: 'final', status: 'INVALID_PARAMETER' };
    return { kind: 'final', status: 'FAILED' };
  }
  // 1xx-3xx with an error: SES answered (the call most likely succeeded) but the answer could not be read.
  return { kind: 'unknown', status: 'UNKNOWN' };
}

/** No answer: decided by whether the request can have reached SES. */
function classifyNoAnswer(e: ErrorLike, code: string, message: string): Pick<ErrorClass, 'kind' | 'status'> {
  const retry = { kind: 'retry', status: 'FAILED' } as const;
  if (NEVER_LEFT_CODES.has(code) || CONNECT_TIMEOUT.test(message)) return retry;
  const stage = e[SEND_STAGE];
  if (stage === 'before-handler' || stage === 'not-connected') return retry;
  // Reset, EPIPE, socket hang up, timeout, abort — or anything else after (or without knowing whether) it left.
  return { kind: 'unknown', status: 'UNKNOWN' };
}

/** Classifies anything `client.send()` threw. Never uses `instanceof`: names, HTTP status, Node codes, send stage. */
export function classifyError(err: unknown): ErrorClass {
  const e: ErrorLike = typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  const name = exceptionName(e);
  const cause = typeof e.cause === 'object' && e.cause !== null ? (e.cause as ErrorLike) : undefined;
  const message = str(e.message) ?? name;
  const httpStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const requestId = str(e.$metadata?.requestId);
  const answered =
    httpStatus !== undefined || typeof e.$fault === 'string' || THROTTLE_NAMES.has(name) || SES_EXCEPTIONS.has(name);
  const code = answered
    ? name
    : (str(e.code) ??
      (name === 'AbortError' && str(cause?.name) === 'TimeoutError' ? 'TimeoutError' : undefined) ??
      name);
  const decided = answered
    ? classifyAnswer(
        name,
        message,
        httpStatus ?? (e.$fault === 'server' || /Internal|Unavailable/.test(name) ? 500 : 400),
      )
    : classifyNoAnswer(e, code, message);
  const out: ErrorClass = { ...decided, code, message };
  if (httpStatus !== undefined) out.httpStatus = httpStatus;
  if (requestId !== undefined) out.requestId = requestId;
  return out;
}
