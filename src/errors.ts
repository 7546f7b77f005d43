// The error code → HTTP status table, BulkEmailError, and the helpers hooks throw.

export const ERROR_STATUS = {
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TEMPLATE_NOT_FOUND: 422,
  IDEMPOTENCY_KEY_INVALID: 400,
  IDEMPOTENCY_IN_FLIGHT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  NOT_CANCELABLE: 409,
  NOT_PAUSABLE: 409,
  NOT_RESUMABLE: 409,
  SENDING_PAUSED: 409,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INVALID_TOKEN: 400,
  INVALID_SIGNATURE: 403,
  SES_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem in a request: where (a JSON Pointer into the body) and what. */
export interface ValidationDetail {
  path: string;
  message: string;
}

const BRAND = Symbol.for('express-bulk-email.error');

export interface BulkEmailErrorOptions {
  details?: unknown;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error that leaves the router as a known envelope. Recognised by a brand, so copies of the package agree. */
export class BulkEmailError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly retryAfter?: number;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: BulkEmailErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BulkEmailError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

export function isBulkEmailError(err: unknown): err is BulkEmailError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** Most problems an error lists in `details`; one more detail then counts the ones left out. */
export const MAX_DETAILS = 100;

/** A list of problems that keeps the first few and only counts the rest, so nothing past the cap is built. */
export interface DetailList {
  /** Adds a problem: listed while there is room (a function is called only then), counted always. */
  add(detail: ValidationDetail | (() => ValidationDetail)): void;
  /** Counts `n` problems found elsewhere and not listed (a list that was already cut). */
  skip(n: number): void;
  /** Every problem added, listed or not. */
  readonly count: number;
  /** No room left: further problems are only counted. */
  readonly full: boolean;
  /** The listed problems, then `summary(more)` when `more` were left out (default: "N more problems not listed"). */
  list(summary?: (more: number) => ValidationDetail): ValidationDetail[];
}

const moreProblems = (more: number, max: number): ValidationDetail => ({
  path: '',
  message: `${more} more ${more === 1 ? 'problem' : 'problems'} not listed (showing the first ${max})`,
});

class CappedDetails implements DetailList {
  private readonly listed: ValidationDetail[] = [];
  private counted = 0;
  constructor(private readonly max: number) {}
  add(detail: ValidationDetail | (() => ValidationDetail)): void {
    this.counted += 1;
    if (this.listed.length < this.max) this.listed.push(typeof detail === 'function' ? detail() : detail);
  }
  skip(n: number): void {
    this.counted += n;
  }
  get count(): number {
    return this.counted;
  }
  get full(): boolean {
    return this.listed.length >= this.max;
  }
  list(summary?: (more: number) => ValidationDetail): ValidationDetail[] {
    const more = this.counted - this.listed.length;
    if (more <= 0) return this.listed;
    return [...this.listed, summary ? summary(more) : moreProblems(more, this.max)];
  }
}

/** A `DetailList` listing at most `max` problems. */
export function detailList(max: number = MAX_DETAILS): DetailList {
  return new CappedDetails(max);
}

/** `details` cut to `MAX_DETAILS` and one detail counting the rest, when it is a longer list (from any caller). */
export function cappedDetails<T>(details: T): T | ValidationDetail[] {
  if (!Array.isArray(details) || details.length <= MAX_DETAILS + 1) return details;
  return [...details.slice(0, MAX_DETAILS), moreProblems(details.length - MAX_DETAILS, MAX_DETAILS)];
}

/** Throw from `validate` to refuse a request with 400 `VALIDATION_ERROR`. Lists over 101 problems are cut to 100 and a count. */
export function validationError(details: ValidationDetail[] | ValidationDetail | string): BulkEmailError {
  const list: ValidationDetail[] =
    typeof details === 'string' ? [{ path: '', message: details }] : Array.isArray(details) ? details : [details];
  const message = list.length === 1 ? list[0].message : `${list.length} problems in the request`;
  return new BulkEmailError('VALIDATION_ERROR', message, { details: cappedDetails(list) });
}

/** Throw from `authorize` (or any hook) to refuse with 403 `FORBIDDEN`. */
export function forbidden(message = 'Not allowed'): BulkEmailError {
  return new BulkEmailError('FORBIDDEN', message);
}

/** Throw from `resolveTemplate` when the template does not exist: 422 `TEMPLATE_NOT_FOUND`. */
export function templateNotFound(name: string): BulkEmailError {
  return new BulkEmailError('TEMPLATE_NOT_FOUND', `No template named "${name}"`, { details: { template: name } });
}

/** Throw from any hook to answer 429 `RATE_LIMITED` with `Retry-After`. */
export function rateLimited(retryAfterSeconds: number, message = 'Too many requests'): BulkEmailError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new BulkEmailError('RATE_LIMITED', message, { retryAfter: seconds });
}

/** A store or queue that cannot be reached. */
export function serviceUnavailable(cause?: unknown): BulkEmailError {
  return new BulkEmailError('SERVICE_UNAVAILABLE', 'The job store or queue is unreachable; try again shortly', {
    retryAfter: 5,
    cause,
  });
}
