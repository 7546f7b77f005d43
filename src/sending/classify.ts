// Pure classification of SES outcomes: per-entry statuses and whole-call errors → what the dispatcher does next.
import type { EntryError, EntryStatus, SesEntryStatus } from '../types.js';
import { type EntryErrorCode, entryError, scrub } from './entry-errors.js';
import { type EntryKind, SES_STATUS_HANDLING } from './statuses.js';

export type ErrorKind = 'throttle' | 'retry' | 'unknown' | 'fatal' | 'hold' | 'quota' | 'final';
export { type EntryKind, SES_STATUS_HANDLING } from './statuses.js';

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
  /** SES exception name, Node error code, or error name: for the logs. */
  code: string;
  /** The raw message: for the logs only. */
  message: string;
  /** The entry status to record when this outcome is (or becomes) final. */
  status: EntryStatus;
  /** What clients are told: a fixed code and a message without hosts, addresses, ports or stacks. */
  error: EntryError;
  /** Retried like any `retry`, but once the call's attempts run out the job fails (SES unreachable). */
  fatalWhenExhausted?: boolean;
  httpStatus?: number;
  requestId?: string;
}

/** What the classifier may know of the job: its From address, to tell "the sender is not verified". */
export interface ClassifyContext {
  from?: string;
}

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

/** What to do with one entry after SES answered. Unknown future statuses (and UNKNOWN) are final for that entry. */
export function classifyEntryStatus(status: string | undefined | null): EntryKind {
  const s = normalizeEntryStatus(status);
  return Object.hasOwn(SES_STATUS_HANDLING, s) ? SES_STATUS_HANDLING[s as SesEntryStatus] : 'final';
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
/** The credentials are unknown, invalid or expired: no call of any job can succeed. */
const CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'CredentialsProviderError',
]);
const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'NotAuthorized',
  'UnauthorizedOperation',
  'AuthorizationError',
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
  ...CREDENTIAL_NAMES,
  ...ACCESS_DENIED_NAMES,
]);
const CONNECT_TIMEOUT = /did not establish a connection/i;
const DAILY_QUOTA = /daily (message )?quota/i;
const NOT_VERIFIED = /not verified/i;

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

/**
 * "Email address is not verified. The following identities failed the check in region …: a@b.com": about the
 * sender when it names the From address or its domain, or names no address at all (then nothing else can be meant).
 */
function senderNotVerified(message: string, from: string | undefined): boolean {
  if (!NOT_VERIFIED.test(message)) return false;
  const text = message.toLowerCase();
  if (!text.includes('@')) return true;
  const address = from?.match(/<([^>]+)>\s*$/)?.[1] ?? from;
  if (!address) return false;
  const lower = address.trim().toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@') + 1);
  return (
    text.includes(lower) || new RegExp(`(^|[\\s,:@])${domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(text)
  );
}

type Decided = Pick<ErrorClass, 'kind' | 'status' | 'error' | 'fatalWhenExhausted'>;

const sesText = (status: EntryStatus, message: string): EntryError => ({ code: status, message: scrub(message) });
const own = (kind: ErrorKind, status: EntryStatus, code: EntryErrorCode, detail?: string): Decided => ({
  kind,
  status,
  error: entryError(code, detail),
});

/** An SES answer (an HTTP status came back): decided by exception name, then status. */
function classifyAnswer(name: string, message: string, httpStatus: number, ctx: ClassifyContext): Decided {
  if (THROTTLE_NAMES.has(name) || httpStatus === 429) {
    return DAILY_QUOTA.test(message)
      ? {
          kind: 'quota',
          status: 'ACCOUNT_DAILY_QUOTA_EXCEEDED',
          error: sesText('ACCOUNT_DAILY_QUOTA_EXCEEDED', message),
        }
      : own('throttle', 'ACCOUNT_THROTTLED', 'SES_THROTTLED');
  }
  if (CREDENTIAL_NAMES.has(name)) return own('fatal', 'FAILED', 'SES_CREDENTIALS');
  if (ACCESS_DENIED_NAMES.has(name) || httpStatus === 403) return own('fatal', 'FAILED', 'SES_ACCESS_DENIED');
  if (name === 'AccountSuspendedException') {
    return { kind: 'fatal', status: 'ACCOUNT_SUSPENDED', error: sesText('ACCOUNT_SUSPENDED', message) };
  }
  if (name === 'MailFromDomainNotVerifiedException') {
    const status = 'MAIL_FROM_DOMAIN_NOT_VERIFIED';
    return { kind: 'fatal', status, error: sesText(status, message) };
  }
  if (name === 'NotFoundException') {
    const status = notFoundStatus(message);
    return { kind: 'fatal', status, error: sesText(status, message) };
  }
  if (name === 'SendingPausedException') {
    const status = /configuration set/i.test(message) ? 'CONFIGURATION_SET_SENDING_PAUSED' : 'ACCOUNT_SENDING_PAUSED';
    return { kind: 'hold', status, error: sesText(status, message) };
  }
  if (httpStatus >= 500) return own('retry', 'TRANSIENT_FAILURE', 'SES_SERVER_ERROR');
  if (httpStatus >= 400) {
    if (name === 'MessageRejected') {
      if (senderNotVerified(message, ctx.from)) {
        return own('fatal', 'MESSAGE_REJECTED', 'SES_IDENTITY_NOT_VERIFIED', scrub(message));
      }
      return { kind: 'final', status: 'MESSAGE_REJECTED', error: sesText('MESSAGE_REJECTED', message) };
    }
    if (name === 'BadRequestException') {
      return { kind: 'final', status: 'INVALID_PARAMETER', error: sesText('INVALID_PARAMETER', message) };
    }
    return own('final', 'FAILED', 'SES_REJECTED', scrub(`${name}: ${message}`));
  }
  // 1xx-3xx with an error: SES answered (the call most likely succeeded) but the answer could not be read.
  return own('unknown', 'UNKNOWN', 'SES_UNREADABLE_ANSWER');
}

/** No answer: decided by whether the request can have reached SES. */
function classifyNoAnswer(e: ErrorLike, code: string, message: string): Decided {
  if (NEVER_LEFT_CODES.has(code) || CONNECT_TIMEOUT.test(message)) {
    return { ...own('retry', 'FAILED', 'SES_UNREACHABLE'), fatalWhenExhausted: true };
  }
  const stage = e[SEND_STAGE];
  if (stage === 'not-connected') return { ...own('retry', 'FAILED', 'SES_UNREACHABLE'), fatalWhenExhausted: true };
  if (stage === 'before-handler') return own('retry', 'FAILED', 'SES_REJECTED', 'the call could not be prepared');
  // Reset, EPIPE, socket hang up, timeout, abort — or anything else after (or without knowing whether) it left.
  const timedOut = code === 'TimeoutError' || code === 'ETIMEDOUT';
  return own('unknown', 'UNKNOWN', timedOut ? 'SES_TIMEOUT' : 'CONNECTION_RESET');
}

/** Classifies anything `client.send()` threw. Never uses `instanceof`: names, HTTP status, Node codes, send stage. */
export function classifyError(err: unknown, ctx: ClassifyContext = {}): ErrorClass {
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
        ctx,
      )
    : classifyNoAnswer(e, code, message);
  const out: ErrorClass = { ...decided, code, message };
  if (httpStatus !== undefined) out.httpStatus = httpStatus;
  if (requestId !== undefined) out.requestId = requestId;
  return out;
}
