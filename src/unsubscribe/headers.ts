// unsubscribeHeaders(): adds RFC 8058 one-click List-Unsubscribe headers to one entry, within SES's header limits.
import type { BulkEmailEntry, Destination, MessageHeader } from '../types.js';
import { HEADER_LINE_MAX, HEADER_VALUE_MAX, MAX_HEADERS } from '../validation/schema.js';
import type { UnsubscribeTokens } from './token.js';

export const DEFAULT_UNSUBSCRIBE_TTL_SECONDS = 60 * 24 * 60 * 60;

/** SES: at most 15 headers per list; a value ≤ 995 characters and name + value ≤ 996. */
const LIST_UNSUBSCRIBE = 'List-Unsubscribe';
const LIST_UNSUBSCRIBE_POST = 'List-Unsubscribe-Post';
const MAX_VALUE = Math.min(HEADER_VALUE_MAX, HEADER_LINE_MAX - LIST_UNSUBSCRIBE.length);
const UNSUBSCRIBE_NAME = /^list-unsubscribe(-post)?$/i;

export interface UnsubscribeHeaderOptions {
  /** Public URL of the router's `/unsubscribe` route; the token is appended as one more path segment. */
  url: string;
  /** Also offer `mailto:` unsubscription to this address. */
  mailto?: string;
  /** `unsubscribeTokens(secret)`, made once. */
  tokens: UnsubscribeTokens;
  /** Token lifetime. Default 60 days. */
  ttlSeconds?: number;
  jobId: string;
  principalId: string;
  /** ms since the epoch. */
  now: number;
}

/** The bare address of `Name <addr>` or `addr`. */
function bareAddress(address: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(address);
  return (angle ? angle[1] : address).trim();
}

/**
 * Whom an entry's unsubscribe link is for: its one recipient (To, Cc or Bcc). SES sends one message to all of an
 * entry's recipients, so with several of them every copy would carry the same link and one click would unsubscribe
 * someone else: `undefined` then, as for an entry with none.
 */
export function unsubscribeAddress(destination: Destination | undefined): string | undefined {
  const all = [
    ...(destination?.ToAddresses ?? []),
    ...(destination?.CcAddresses ?? []),
    ...(destination?.BccAddresses ?? []),
  ];
  return all.length === 1 ? bareAddress(all[0]) : undefined;
}

/** Why an entry cannot get a one-click link (no recipient, or several), or undefined when it can. */
export function recipientProblem(destination: Destination | undefined): string | undefined {
  const n =
    (destination?.ToAddresses?.length ?? 0) +
    (destination?.CcAddresses?.length ?? 0) +
    (destination?.BccAddresses?.length ?? 0);
  if (n === 1) return undefined;
  if (n === 0) return 'the entry has no recipient to unsubscribe';
  return `one-click unsubscribe needs exactly one recipient per entry; this one has ${n} (To, Cc and Bcc get the same message, so one click would unsubscribe someone else): send each recipient as an entry of its own`;
}

/** Headers without any List-Unsubscribe / List-Unsubscribe-Post (any case): for `DefaultContent.Template.Headers`. */
export function stripUnsubscribeHeaders(headers: MessageHeader[] | undefined): MessageHeader[] | undefined {
  if (!headers) return headers;
  const kept = headers.filter((h) => !UNSUBSCRIBE_NAME.test(h.Name));
  return kept.length === headers.length ? headers : kept;
}

/**
 * A copy of `entry` whose `ReplacementHeaders` carry `List-Unsubscribe: <{url}/{token}>` (and `<mailto:…>` when
 * given) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, replacing any the entry had (any case).
 * Returns an error text instead when the entry has no recipient or more than one, already has 14 or more other
 * headers, or the header value would break SES's limits. The input is not changed.
 */
export function unsubscribeHeaders(entry: BulkEmailEntry, options: UnsubscribeHeaderOptions): BulkEmailEntry | string {
  const address = unsubscribeAddress(entry.Destination);
  if (!address) return recipientProblem(entry.Destination) as string;
  const others = (entry.ReplacementHeaders ?? []).filter((h) => !UNSUBSCRIBE_NAME.test(h.Name));
  if (others.length + 2 > MAX_HEADERS) {
    return `the entry has ${others.length} other ReplacementHeaders; SES allows ${MAX_HEADERS} and one-click unsubscribe needs 2`;
  }
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_UNSUBSCRIBE_TTL_SECONDS;
  const token = options.tokens.sign({
    address,
    jobId: options.jobId,
    principalId: options.principalId,
    expiresAt: options.now + ttlSeconds * 1000,
  });
  let value = `<${options.url.replace(/\/+$/, '')}/${token}>`;
  if (options.mailto) value += `, <mailto:${options.mailto}?subject=unsubscribe>`;
  if (!/^[ -~]+$/.test(value))
    return 'the List-Unsubscribe value has characters SES does not allow in a header (use an ASCII url and mailto)';
  if (value.length > MAX_VALUE) {
    return `the List-Unsubscribe value would be ${value.length} characters, over SES's limit of ${MAX_VALUE} (shorten the url, the address or the principal id)`;
  }
  return {
    ...entry,
    ReplacementHeaders: [
      ...others,
      { Name: LIST_UNSUBSCRIBE, Value: value },
      { Name: LIST_UNSUBSCRIBE_POST, Value: 'List-Unsubscribe=One-Click' },
    ],
  };
}
