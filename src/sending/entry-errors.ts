// The package's own entry/job error codes with their client-visible messages, and the scrub for SES's texts.
import type { EntryError } from '../types.js';

/**
 * Codes the package gives when no SES per-entry status says why (SES's own answers keep their status as code, e.g.
 * `MESSAGE_REJECTED` with SES's text). One table: the README lists it.
 */
export const ENTRY_ERRORS = {
  SES_THROTTLED: 'SES throttled every attempt (maximum sending rate exceeded)',
  SES_SERVER_ERROR: 'SES answered every attempt with a server error',
  SES_UNREACHABLE: 'SES unreachable',
  SES_TIMEOUT: 'SES did not answer in time; the mail may or may not have been sent',
  CONNECTION_RESET: 'The connection to SES broke after the request was sent; the mail may or may not have been sent',
  SES_UNREADABLE_ANSWER: 'SES answered, but the answer could not be read; the mail may or may not have been sent',
  SES_NO_RESULT: 'SES returned no result for this entry',
  SES_CREDENTIALS: 'SES refused the credentials (unknown, invalid or expired)',
  SES_ACCESS_DENIED: 'The credentials are not allowed to send through SES (ses:SendBulkEmail)',
  SES_IDENTITY_NOT_VERIFIED: 'The sender identity is not verified in SES',
  SES_REJECTED: 'SES refused the call',
  WORKER_STOPPED: 'In flight when its worker stopped; SES may or may not have sent it',
  CANCELED: 'Canceled before it was sent',
  SUPPRESSED: 'Every recipient is on the suppression list',
  SUPPRESSED_BOUNCE: 'Every recipient is suppressed: an earlier message to it bounced permanently',
  SUPPRESSED_COMPLAINT: 'Every recipient is suppressed: it complained about an earlier message',
  SUPPRESSED_UNSUBSCRIBE: 'Every recipient is suppressed: it unsubscribed',
  SUPPRESSED_MANUAL: 'Every recipient is suppressed: it was put on the suppression list (PUT /suppressions)',
  QUEUE_ATTEMPTS_EXHAUSTED: 'The sender failed on this call repeatedly (see the server logs)',
  JOB_NOT_QUEUED: 'The job could not be queued',
} as const;

export type EntryErrorCode = keyof typeof ENTRY_ERRORS;

/** The package's error for `code`; `detail` (already scrubbed) is appended after a colon. */
export function entryError(code: EntryErrorCode, detail?: string): EntryError {
  return { code, message: detail ? `${ENTRY_ERRORS[code]}: ${detail}` : ENTRY_ERRORS[code] };
}

const MAX_MESSAGE = 500;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>)]+/gi;
const IPV6 = /\[?\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b\]?(?::\d{1,5})?|\[?::1\]?(?::\d{1,5})?/gi;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
const HOST_PORT = /\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*:\d{1,5}\b/gi;
const STACK = /\n\s+at [\s\S]*$/;

/**
 * A text from SES (or from anything on the way) made fit for clients: no URLs, IP addresses, `host:port` pairs or
 * stack traces, one bounded line. The raw text is what the logs get.
 */
export function scrub(text: string): string {
  const clean = text
    .replace(STACK, '')
    .replace(URL, '[url]')
    .replace(IPV4, '[address]')
    .replace(IPV6, '[address]')
    .replace(HOST_PORT, '[address]')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 3)}...` : clean;
}
