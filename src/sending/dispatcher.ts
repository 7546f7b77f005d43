// createDispatcher(): one taken call → one SES call: pace, claim, send, classify, record, and what is left for the queue.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { NO_TELEMETRY, type SpanNote, type Telemetry } from '../telemetry/telemetry.js';
import type {
  BulkEmailEvent,
  CallOutcome,
  Clock,
  EntryClaim,
  EntryError,
  EntryResult,
  IndexedEntry,
  Logger,
  Queue,
  RecordOutcome,
  RecordResultsOptions,
  Store,
  TakenCall,
} from '../types.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { recipientsOf } from './chunk.js';
import { classifyError } from './classify.js';
import { entryError } from './entry-errors.js';
import { jobEndEvent, PAUSABLE, resumeAt } from './job-end.js';
import { type CallEntry, type CallPlan, planFromAnswer, planFromError } from './outcomes.js';
import { sendTracker } from './send-tracker.js';
import { type PreparedContent, prepareContent, type SesCallResult, sendBulkEmailCall } from './ses-call.js';

/** Waits the engine applies; DEFAULT_TIMING in production, shorter ones in tests. */
export interface DispatcherTiming {
  /** Entries SES held because sending is paused go back to the queue for this long. */
  pausedHoldMs: number;
  /** Store writes whose outcome is unknown are retried for this long (then the call fails and the queue retries it). */
  storeRetryMs: number;
  /** Backoff between those store retries. */
  storeBackoff: BackoffOptions;
}

export const DEFAULT_TIMING: Readonly<DispatcherTiming> = Object.freeze({
  pausedHoldMs: 60_000,
  storeRetryMs: 10 * 60_000,
  storeBackoff: Object.freeze({ baseDelayMs: 100, maxDelayMs: 5000 }),
});

export interface DispatcherDeps {
  ses: SESv2Client;
  store: Store;
  queue: Pick<Queue, 'pause' | 'resume' | 'remove' | 'penalize'>;
  /** Total SES calls an entry may go out in, and the backoff between them. */
  retry: { attempts: number } & BackoffOptions;
  atLeastOnce: boolean;
  callTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  emit: (event: BulkEmailEvent) => void;
  /** SES says the 24-hour quota is spent: re-read it (the queue then holds work until it frees); returns the hold in ms. */
  quotaSpent: () => number;
  timing: DispatcherTiming;
  /** Source of jitter for backoff. */
  random: () => number;
  /** Link SUCCESS entries' MessageIds for delivery events (and count sends for the guard) as results are recorded. */
  feedback?: RecordResultsOptions;
  /** Spans for SES calls, recipients by final status, throttles (default: none). */
  telemetry?: Telemetry;
}

export type Dispatcher = (call: TakenCall, signal: AbortSignal) => Promise<CallOutcome>;

/**
 * After a claim refused as paused, the dispatcher paused the queue's copy of the job; if the job was resumed in
 * between (POST /:id/resume, router.resumePrincipal), that resume reached the queue first and this pause would hold
 * the job for good: resume the queue again. (Best effort: the store stays the authority either way.)
 */
function staleQueuePause(deps: Pick<DispatcherDeps, 'store' | 'queue' | 'clock'>) {
  return async (jobId: string): Promise<void> => {
    const job = await deps.store.getJob(jobId).catch(() => null);
    if (!job || !PAUSABLE.includes(job.status)) return;
    await deps.queue.resume(jobId, resumeAt(job, deps.clock.now())).catch(() => undefined);
  };
}

/** Why a store write may or may not have been applied: it failed without an answer we can trust. */
class StoreStillFailing extends Error {
  constructor(what: string, cause: unknown) {
    super(`the store kept failing (${what})`, { cause });
    this.name = 'StoreStillFailing';
  }
}

const PAYLOAD_CACHE_SIZE = 100;
const DONE: CallOutcome = { kind: 'done' };
const errText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
const indexesOf = (items: readonly IndexedEntry[]) => items.map((i) => i.index);
const maxAttempts = (items: readonly CallEntry[]) => items.reduce((m, i) => Math.max(m, i.attempts), 0);
const plain = ({ index, entry, attempts }: CallEntry): IndexedEntry => ({ index, entry, attempts });

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { ses, store, queue, clock, logger, emit, timing } = deps;
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  const tracker = sendTracker();
  /** Job id → its prepared content (attachments decoded once per job). */
  const payloads = new Map<string, Promise<PreparedContent | null>>();
  const at = () => new Date(clock.now()).toISOString();
  const undoStalePause = staleQueuePause(deps);

  function payloadFor(jobId: string): Promise<PreparedContent | null> {
    let cached = payloads.get(jobId);
    if (!cached) {
      if (payloads.size >= PAYLOAD_CACHE_SIZE) payloads.delete(payloads.keys().next().value as string);
      cached = store.getPayload(jobId).then((p) => (p ? prepareContent(p.content) : null));
      payloads.set(jobId, cached);
      cached.then(
        (p) => p === null && payloads.delete(jobId),
        () => payloads.delete(jobId),
      );
    }
    return cached;
  }

  /** Runs an idempotent store write until it is stored (bounded by timing.storeRetryMs). */
  async function persist<T>(what: string, jobId: string, write: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = clock.now() + timing.storeRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (clock.now() >= deadline || signal?.aborted) throw new StoreStillFailing(what, err);
        const delayMs = backoffDelay(attempt, timing.storeBackoff, deps.random);
        logger.warn(
          { code: 'EBE_STORE_RETRY', jobId, what, attempt, delayMs, err: errText(err) },
          'express-bulk-email: a store write failed; trying again',
        );
        await clock.sleep(Math.max(1, delayMs), signal);
      }
    }
  }

  /** Emits the end of a job once, for the one write that made it final. */
  function settled(jobId: string, out: RecordOutcome | null): void {
    if (!out?.finished) return;
    payloads.delete(jobId);
    const { job } = out;
    emit(jobEndEvent(job, at()));
    logger.info({ jobId, status: job.status, counts: job.counts }, 'express-bulk-email: job finished');
  }

  /** Stores results; `sent` (the entries they are for) lets telemetry count the recipients of final ones. */
  async function record(jobId: string, results: EntryResult[], sent: readonly CallEntry[]): Promise<void> {
    if (results.length === 0) return;
    settled(jobId, await persist('recordResults', jobId, () => store.recordResults(jobId, results, deps.feedback)));
    if (telemetry.enabled) countFinal(results, sent);
  }

  function countFinal(results: EntryResult[], sent: readonly CallEntry[]): void {
    const byIndex = new Map(sent.map((i) => [i.index, i]));
    const byStatus = new Map<string, number>();
    for (const r of results) {
      const item = byIndex.get(r.index);
      if (r.status === 'PENDING' || !item) continue;
      byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + recipientsOf([item]));
    }
    for (const [status, n] of byStatus) telemetry.recipients(status, n);
  }

  async function failJob(call: TakenCall, error: EntryError): Promise<void> {
    const { jobId } = call.task;
    logger.error(
      { code: 'EBE_JOB_FAILED', jobId, chunk: call.task.chunk, error: error.code },
      'express-bulk-email: the job cannot succeed; failing its remaining entries',
    );
    settled(jobId, await persist('failJob', jobId, () => store.failJob(jobId, error)));
    await queue.remove(jobId);
  }

  /**
   * Claims with the lease as token. A claim that throws may or may not have been applied: nothing is sent then; the
   * entries are released (harmless if the claim never happened) so that no later claim finds them stale.
   */
  async function claim(call: TakenCall, signal: AbortSignal): Promise<EntryClaim | null> {
    const { jobId } = call.task;
    try {
      return await store.claimEntries(jobId, indexesOf(call.task.entries), call.lease);
    } catch (err) {
      logger.warn(
        { code: 'EBE_CLAIM_UNKNOWN', jobId, chunk: call.task.chunk, err: errText(err) },
        'express-bulk-email: claiming entries failed; releasing them, nothing was sent',
      );
      try {
        await persist('releaseEntries', jobId, () => store.releaseEntries(jobId, call.lease), signal);
      } catch (released) {
        logger.error(
          { code: 'EBE_RELEASE_FAILED', jobId, chunk: call.task.chunk, err: errText(released) },
          'express-bulk-email: could not release claimed entries; if the claim was applied they will end UNKNOWN',
        );
      }
      return null;
    }
  }

  /** Entries in flight under another lease: their call may have reached SES. UNKNOWN, or resent with atLeastOnce. */
  async function staleEntries(call: TakenCall, items: CallEntry[], stale: number[]): Promise<CallEntry[]> {
    if (stale.length === 0) return [];
    const set = new Set(stale);
    const found = items.filter((i) => set.has(i.index));
    logger.warn(
      { code: 'EBE_STALE_ENTRIES', jobId: call.task.jobId, chunk: call.task.chunk, entries: found.length },
      'express-bulk-email: entries were in flight when a worker stopped',
    );
    if (deps.atLeastOnce) return found;
    const error = entryError('WORKER_STOPPED');
    await record(
      call.task.jobId,
      found.map((i) => ({ index: i.index, status: 'UNKNOWN', error, attempts: i.attempts + 1 })),
      found,
    );
    return [];
  }

  function chunkSent(call: TakenCall, items: CallEntry[], plan: CallPlan, requestId?: string): void {
    const { jobId, chunk } = call.task;
    const attempt = maxAttempts(items);
    const recipients = recipientsOf(items);
    emit({
      type: 'chunk.sent',
      jobId,
      chunk,
      attempt,
      entries: items.length,
      recipients,
      ...plan.counts,
      awsRequestId: requestId,
      at: at(),
    });
    logger.debug(
      { jobId, chunk, attempt, entries: items.length, recipients, ...plan.counts, awsRequestId: requestId },
      'express-bulk-email: SES call done',
    );
  }

  /** Sends `items` (attempts already counted) in a telemetry span and turns the outcome into a plan. */
  function send(call: TakenCall, content: PreparedContent, items: CallEntry[]): Promise<CallPlan> {
    if (!telemetry.enabled) return sendAndPlan(call, content, items, () => undefined);
    const facts = {
      jobId: call.task.jobId,
      chunk: call.task.chunk,
      entries: items.length,
      recipients: recipientsOf(items),
      attempt: maxAttempts(items),
    };
    return telemetry.sesCall(facts, async (note) => {
      const plan = await sendAndPlan(call, content, items, note);
      const { succeeded, failed, retrying } = plan.counts;
      note({
        'bulk_email.outcome': succeeded === items.length ? 'sent' : succeeded > 0 ? 'partial' : 'not_sent',
        'bulk_email.succeeded': succeeded,
        'bulk_email.failed': failed,
        'bulk_email.retrying': retrying,
        'bulk_email.held': plan.held.length,
        'bulk_email.throttled': plan.throttled,
      });
      if (plan.throttled) telemetry.throttled();
      return plan;
    });
  }

  async function sendAndPlan(
    call: TakenCall,
    content: PreparedContent,
    items: CallEntry[],
    note: SpanNote,
  ): Promise<CallPlan> {
    const attemptsAllowed = deps.retry.attempts;
    let answer: SesCallResult;
    try {
      answer = await sendBulkEmailCall(ses, content, items, { timeoutMs: deps.callTimeoutMs, clock, tracker });
    } catch (err) {
      const c = classifyError(err, { from: content.FromEmailAddress });
      logger.warn(
        {
          jobId: call.task.jobId,
          chunk: call.task.chunk,
          attempt: maxAttempts(items),
          entries: items.length,
          code: c.code,
          kind: c.kind,
          httpStatus: c.httpStatus,
          awsRequestId: c.requestId,
          err: c.message,
        },
        'express-bulk-email: SES call failed',
      );
      note({ 'error.type': c.code, 'aws.request_id': c.requestId, 'http.response.status_code': c.httpStatus });
      const plan = planFromError(items, c, attemptsAllowed, deps.atLeastOnce);
      chunkSent(call, items, plan, c.requestId);
      return plan;
    }
    if (answer.mismatch) {
      logger.warn(
        { jobId: call.task.jobId, chunk: call.task.chunk, entries: items.length, awsRequestId: answer.requestId },
        'express-bulk-email: SES returned a different number of results than entries',
      );
    }
    note({ 'aws.request_id': answer.requestId });
    const plan = planFromAnswer(items, answer.results, attemptsAllowed);
    chunkSent(call, items, plan, answer.requestId);
    return plan;
  }

  /** What goes back to the queue after a plan: retries after backoff, held entries after their hold. */
  function leftover(call: TakenCall, plan: CallPlan): CallOutcome {
    const back = [...plan.retry, ...plan.held].sort((a, b) => a.index - b.index);
    if (back.length === 0) return DONE;
    const now = clock.now();
    const attempt = maxAttempts(plan.retry);
    let delayMs = plan.retry.length > 0 ? backoffDelay(attempt, deps.retry, deps.random) : 0;
    if (plan.hold === 'paused') delayMs = Math.max(delayMs, timing.pausedHoldMs);
    if (plan.hold === 'quota') delayMs = Math.max(delayMs, deps.quotaSpent());
    const { jobId, chunk } = call.task;
    emit({ type: 'chunk.retry', jobId, chunk, attempt, entries: back.length, delayMs, reason: plan.reason, at: at() });
    logger.info(
      { jobId, chunk, attempt, entries: back.length, delayMs, reason: plan.reason },
      plan.hold ? 'express-bulk-email: SES held entries; they wait' : 'express-bulk-email: retrying entries',
    );
    return { kind: 'again', entries: back.map(plain), notBefore: now + delayMs, reason: plan.reason };
  }

  return async function dispatch(call, signal) {
    const { jobId } = call.task;
    const items: CallEntry[] = call.task.entries.map((e) => ({ ...e, attempts: e.attempts ?? 0 }));
    const handBack = (reason: string, entries: CallEntry[] = items, notBefore = clock.now()): CallOutcome => ({
      kind: 'again',
      entries: entries.map(plain),
      notBefore,
      reason,
    });

    // 1. Pace: wait for the call's slot of the shared schedule (a stop hands everything back: nothing was claimed).
    const wait = call.startAt - clock.now();
    if (wait > 0) await clock.sleep(wait, signal);
    if (signal.aborted) return handBack('WORKER_STOPPED');

    let content: PreparedContent | null;
    try {
      content = await payloadFor(jobId);
    } catch (err) {
      logger.warn({ code: 'EBE_STORE_UNAVAILABLE', jobId, err: errText(err) }, 'express-bulk-email: store unreachable');
      return handBack('STORE_UNAVAILABLE', items, clock.now() + timing.storeBackoff.maxDelayMs);
    }
    if (!content) {
      logger.warn({ jobId, chunk: call.task.chunk }, 'express-bulk-email: no such job (expired or deleted); dropped');
      await queue.remove(jobId);
      return DONE;
    }

    // 2. Claim.
    const claimed = await claim(call, signal);
    if (!claimed) return handBack('STORE_UNAVAILABLE', items, clock.now() + timing.storeBackoff.maxDelayMs);
    const stale = await staleEntries(call, items, claimed.stale);
    if (claimed.refused === 'paused') {
      await queue.pause(jobId);
      await undoStalePause(jobId);
      const staleSet = new Set(claimed.stale);
      return handBack(
        'PAUSED',
        items.filter((i) => !staleSet.has(i.index)),
      );
    }
    if (claimed.refused) {
      await queue.remove(jobId);
      return DONE;
    }
    const mine = new Set([...claimed.claimed, ...indexesOf(stale)]);
    const toSend = items.filter((i) => mine.has(i.index)).map((i) => ({ ...i, attempts: i.attempts + 1 }));
    if (toSend.length === 0) return DONE;

    // 3. Send and classify.
    const plan = await send(call, content, toSend);

    // 4. Record (retried until stored: the results are known). A job-fatal outcome fails the job first, so that the
    //    call's own results cannot complete it before it is marked failed.
    if (plan.fatal) await failJob(call, plan.fatal);
    await record(jobId, plan.results, toSend);
    if (plan.fatal) return DONE;
    if (plan.throttled) await queue.penalize().catch(() => undefined);
    return leftover(call, plan);
  };
}
