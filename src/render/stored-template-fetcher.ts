// storedTemplateFetcher(): loads a stored template's content with GetEmailTemplate, once per name, cached for a while.
import { GetEmailTemplateCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Clock, EmailTemplateContent } from '../types.js';

export type FetchStoredTemplate = (name: string) => Promise<EmailTemplateContent | null>;

export interface StoredTemplateFetcherOptions {
  /** How long a found template is reused. Default 5 minutes. */
  ttlMs?: number;
  /** How long "no such template" is remembered. Default 30 seconds. */
  missTtlMs?: number;
  /** Most template names cached at once (oldest dropped first). Default 1,000. */
  maxNames?: number;
  clock?: Pick<Clock, 'now'>;
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  // the emulator's errors arrive named "Unknown" with the status only
  return e.name === 'NotFoundException' || e.$metadata?.httpStatusCode === 404;
}

/**
 * A `fetchStoredTemplate` for `renderCheck`: one `GetEmailTemplate` call per name (concurrent callers share it),
 * the answer cached for `ttlMs` (a miss, `NotFoundException` → null, for `missTtlMs`). Other errors are not cached
 * and reject, so the caller can skip the check and try again next time.
 */
export function storedTemplateFetcher(
  ses: SESv2Client,
  options: StoredTemplateFetcherOptions = {},
): FetchStoredTemplate {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const missTtlMs = options.missTtlMs ?? 30_000;
  const maxNames = options.maxNames ?? 1_000;
  const clock = options.clock ?? { now: () => Date.now() };
  const cache = new Map<string, { expiresAt: number; value: Promise<EmailTemplateContent | null> }>();

  return async (name) => {
    const now = clock.now();
    const hit = cache.get(name);
    if (hit && hit.expiresAt > now) return hit.value;
    if (hit) cache.delete(name);
    // while the call is in flight, concurrent callers share it
    const entry: { expiresAt: number; value: Promise<EmailTemplateContent | null> } = {
      expiresAt: Number.POSITIVE_INFINITY,
      value: Promise.resolve(null),
    };
    entry.value = Promise.resolve()
      .then(() => ses.send(new GetEmailTemplateCommand({ TemplateName: name })))
      .then(
        (out) => {
          entry.expiresAt = clock.now() + ttlMs;
          const c = out.TemplateContent ?? {};
          const content: EmailTemplateContent = {};
          if (c.Subject != null) content.Subject = c.Subject;
          if (c.Text != null) content.Text = c.Text;
          if (c.Html != null) content.Html = c.Html;
          return content;
        },
        (err: unknown) => {
          if (isNotFound(err)) {
            entry.expiresAt = clock.now() + missTtlMs;
            return null;
          }
          if (cache.get(name) === entry) cache.delete(name);
          throw err;
        },
      );
    cache.set(name, entry);
    while (cache.size > maxNames) cache.delete(cache.keys().next().value as string);
    return entry.value;
  };
}
