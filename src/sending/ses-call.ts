// sendBulkEmailCall(): one SendBulkEmail call with SDK retries off for that command only, a timeout, and a send stage on errors.
import {
  type BulkEmailEntryResult,
  type SESv2Client,
  SendBulkEmailCommand,
  type SendBulkEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import type { Clock, IndexedEntry, JobContent } from '../types.js';
import { SEND_STAGE } from './classify.js';
import { systemClock } from './clock.js';
import { type CallTrace, newTrace, type SendTracker, stageOf } from './send-tracker.js';

/** Job content as the SDK wants it: attachments decoded to bytes. Build it once per job with prepareContent(). */
export type PreparedContent = Omit<SendBulkEmailCommandInput, 'BulkEmailEntries'> & { readonly [PREPARED]: true };

const PREPARED = Symbol.for('express-bulk-email.preparedContent');

function isPrepared(content: JobContent | PreparedContent): content is PreparedContent {
  return (content as Partial<PreparedContent>)[PREPARED] === true;
}

/**
 * Decodes every `DefaultContent.Template.Attachments[].RawContent` from base64 to a Uint8Array (the SDK would
 * base64-encode a string again). Everything else passes through untouched. Returns `content` itself when it is
 * already prepared, so callers can cache the result per job and pass it to every call.
 */
export function prepareContent(content: JobContent | PreparedContent): PreparedContent {
  if (isPrepared(content)) return content;
  const template = content.DefaultContent?.Template;
  const input: Omit<SendBulkEmailCommandInput, 'BulkEmailEntries'> = {
    ...(content as Omit<SendBulkEmailCommandInput, 'BulkEmailEntries'>),
  };
  if (template?.Attachments) {
    input.DefaultContent = {
      ...content.DefaultContent,
      Template: {
        ...template,
        Attachments: template.Attachments.map((a) => ({
          ...a,
          RawContent: new Uint8Array(Buffer.from(a.RawContent, 'base64')),
        })),
      },
    };
  }
  Object.defineProperty(input, PREPARED, { value: true, enumerable: false });
  return input as PreparedContent;
}

export interface SesCallOptions {
  /** Abort the call when SES has not answered after this long; the error is an unknown outcome if the request left. */
  timeoutMs: number;
  /** Aborts the call from outside (the dispatcher does not: a graceful close lets calls in flight finish). */
  signal?: AbortSignal;
  clock?: Clock;
  /** Refines errors after the handler was reached into `connected` / `not-connected`. */
  tracker?: SendTracker;
}

export interface SesCallResult {
  /** One per entry, in order. Entries SES returned no result for get `{ Status: undefined }` (recorded UNKNOWN). */
  results: BulkEmailEntryResult[];
  requestId?: string;
  /** SES returned a different number of results than entries. */
  mismatch: boolean;
}

/**
 * Replaces the client's retry middleware for THIS command with a pass-through (same name, step and priority,
 * `override: true`), so the SDK never resends it; the client's other middleware and its other commands are untouched.
 */
export function disableSdkRetries(command: SendBulkEmailCommand): void {
  command.middlewareStack.add((next) => (args) => next(args), {
    name: 'retryMiddleware',
    tags: ['RETRY'],
    step: 'finalizeRequest',
    priority: 'high',
    override: true,
  });
}

function traceCommand(command: SendBulkEmailCommand, trace: CallTrace, tracker: SendTracker | undefined): void {
  command.middlewareStack.add(
    (next) => (args) => {
      trace.stackRan = true;
      return next(args);
    },
    { name: 'expressBulkEmailStackStart', step: 'initialize', priority: 'high' },
  );
  command.middlewareStack.add(
    (next) => (args) => {
      trace.reachedHandler = true;
      return tracker ? tracker.run(trace, () => next(args)) : next(args);
    },
    { name: 'expressBulkEmailHandlerEdge', step: 'deserialize', priority: 'low' },
  );
}

function timeoutError(ms: number): Error {
  const err = new Error(`SES did not answer within ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

export async function sendBulkEmailCall(
  client: SESv2Client,
  content: JobContent | PreparedContent,
  entries: readonly IndexedEntry[],
  options: SesCallOptions,
): Promise<SesCallResult> {
  const clock = options.clock ?? systemClock();
  const { [PREPARED]: _brand, ...base } = prepareContent(content);
  const command = new SendBulkEmailCommand({
    ...base,
    BulkEmailEntries: entries.map((e) => e.entry) as SendBulkEmailCommandInput['BulkEmailEntries'],
  });
  disableSdkRetries(command);
  const trace = newTrace();
  traceCommand(command, trace, options.tracker);

  const abort = new AbortController();
  const stopTimer = new AbortController();
  const onOuterAbort = () => abort.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  void clock.sleep(options.timeoutMs, stopTimer.signal).then(() => {
    if (!stopTimer.signal.aborted) abort.abort(timeoutError(options.timeoutMs));
  });

  try {
    const out = await client.send(command, { abortSignal: abort.signal });
    const got = out.BulkEmailEntryResults ?? [];
    const results = entries.map((_, i): BulkEmailEntryResult => got[i] ?? { Status: undefined });
    const result: SesCallResult = { results, mismatch: got.length !== entries.length };
    if (out.$metadata?.requestId) result.requestId = out.$metadata.requestId;
    return result;
  } catch (err) {
    const stage = stageOf(trace);
    if (stage && typeof err === 'object' && err !== null && Object.isExtensible(err)) {
      Object.defineProperty(err, SEND_STAGE, { value: stage, configurable: true });
    }
    throw err;
  } finally {
    stopTimer.abort();
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
