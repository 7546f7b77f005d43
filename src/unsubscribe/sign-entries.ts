// One-click unsubscribe as an accept step: a sealed link per entry for its one recipient, or 400 naming the entry.
import { type ValidationDetail, validationError } from '../errors.js';
import type { RouteContext } from '../http/context.js';
import type { AcceptStep } from '../http/draft.js';
import type { IndexedEntry, Principal } from '../types.js';
import { recipientProblem, stripUnsubscribeHeaders, unsubscribeHeaders } from './headers.js';
import { unsubscribeTokens } from './token.js';

/** Problems listed at most (the rest are not looked for): one request cannot make a long answer. */
const MAX_PROBLEMS = 100;

/**
 * With `unsubscribe` on, gives every entry to send its own `List-Unsubscribe` (+ `-Post`) headers and drops any
 * from the default headers. An entry with several recipients (To + Cc + Bcc > 1) is refused, 400 with its
 * `/BulkEmailEntries/{i}/Destination`: its one message would carry one link for all of them. Refusing, rather than
 * sending that entry without the headers, keeps every recipient able to unsubscribe (mailbox providers require
 * one-click unsubscribe for bulk mail) and says so before anything is sent.
 */
export function unsubscribeStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const u = ctx.config.unsubscribe;
  if (!u) return undefined;
  const tokens = unsubscribeTokens(u.secret);
  return (draft) => {
    const signing = {
      url: u.url,
      mailto: u.mailto,
      tokens,
      ttlSeconds: u.ttl,
      jobId: draft.jobId,
      principalId: draft.hook.principal.id,
      now: ctx.config.clock.now(),
    };
    const problems: ValidationDetail[] = [];
    const entries: IndexedEntry[] = [];
    for (const { index, entry } of draft.entries) {
      const wrongRecipients = recipientProblem(entry.Destination);
      const out = wrongRecipients ?? unsubscribeHeaders(entry, signing);
      if (typeof out !== 'string') entries.push({ index, entry: out });
      else {
        const field = wrongRecipients ? 'Destination' : 'ReplacementHeaders';
        problems.push({ path: `/BulkEmailEntries/${index}/${field}`, message: out });
        if (problems.length === MAX_PROBLEMS) break;
      }
    }
    if (problems.length) throw validationError(problems);
    draft.entries = entries;
    const template = draft.request.DefaultContent.Template;
    if (template?.Headers !== undefined) {
      draft.request = {
        ...draft.request,
        DefaultContent: {
          ...draft.request.DefaultContent,
          Template: { ...template, Headers: stripUnsubscribeHeaders(template.Headers) },
        },
      };
    }
  };
}
