// The accept path's working state: a checked request as it moves through the ordered steps of POST /.
import type { EntryResult, HookContext, IndexedEntry, Principal, SendBulkEmailRequest } from '../types.js';
import type { ParsedTemplateData } from '../validation/semantic-checks.js';

/** What the accept steps share. Each step reads what earlier ones left and changes only the fields it owns. */
export interface Draft<P extends Principal = Principal> {
  /** The hooks' context: the principal, the request as the client sent it, the Express request. */
  hook: HookContext<P>;
  /** The job id the job will have (`dry-run` for a dry run): unsubscribe tokens name it. */
  jobId: string;
  /** The request's size in bytes as received (decoded JSON). */
  bytes: number;
  /** The template data strings the validator parsed, reused by the render check. */
  parsed: ParsedTemplateData;
  /** The request to send: the template resolved, one-click headers moved from the defaults to the entries. */
  request: SendBulkEmailRequest;
  /** Entries still to send, with their original index, in index order. */
  entries: IndexedEntry[];
  /** Entries that end before sending (INVALID_PARAMETER from a permissive render check, SUPPRESSED). */
  initial: EntryResult[];
  /** Set by the admission step: recipients of the entries to send. */
  recipients: number;
  /** A scheduled send (`?send_at=` in the future): epoch ms before which nothing is sent. */
  sendAt?: number;
  /** Set by the admission step: when the job should be done. */
  estimatedCompletionAt?: string;
}

/** One check or change of the accept path. Sync steps return nothing (no microtask per step on the hot path). */
export type AcceptStep<P extends Principal = Principal> = (draft: Draft<P>) => void | Promise<void>;

export function newDraft<P extends Principal>(
  hook: HookContext<P>,
  jobId: string,
  parsed: ParsedTemplateData,
  bytes: number,
): Draft<P> {
  return {
    hook,
    jobId,
    bytes,
    parsed,
    request: hook.request,
    entries: hook.request.BulkEmailEntries.map((entry, index) => ({ index, entry })),
    initial: [],
    recipients: 0,
  };
}

/** Runs the steps in order; the first that throws ends the request with its error. */
export async function runSteps<P extends Principal>(steps: readonly AcceptStep<P>[], draft: Draft<P>): Promise<void> {
  for (const step of steps) {
    const pending = step(draft);
    if (pending) await pending;
  }
}

/** Two lists of results, each in index order, as one list in index order. */
export function mergeByIndex(a: EntryResult[], b: EntryResult[]): EntryResult[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...a, ...b].sort((x, y) => x.index - y.index);
}
