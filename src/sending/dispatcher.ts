// createDispatcher(): runs one chunk task — pace, claim, send, classify, record, retry, and hand the rest back.
import { silentLogger } from '../logger.js';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type {
  BulkEmailEvent,
  ChunkTask,
  EntryResult,
  EntryStatus,
  LegacyQueue as Queue,
  RateLimiter,
  RecordOutcome,
  SenderOptions,
  Store,
} from '../types.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { splitCalls } from './chunk.js';
import { classifyError, type ErrorClass } from './classify.js';
import { systemClock } from './clock.js';
import { type CallEntry, type CallPlan, planFromAnswer, planFromError } from './outcomes.js';
import { countRecipients } from './recipients.js';
import { semaphore } from './semaphore.js';
import { sendTracker } from './send-tracker.js';
import { type PreparedContent, prepareContent, type SesCallResult, sendBulkEmailCall } from './ses-call.js';

export interface DispatcherOptions
  extends Pick<
    SenderOptions,
    'retry' | 'atLeastOnce' | 'callTimeoutMs' | 'concurrency' | 'onEvent' | 'logger' | 'clock'
  > {
  ses: SESv2Client;
  store: Store;
  queue: Pick<Queue, 'enqueue'>;
  limiter: RateLimiter;
  /** Wait before resending entries SES held because sending is paused. Default 60,000 ms. */
  pausedDelayMs?: number;
  /** Wait before resending entries SES held because the daily quota is used up. Default 15 min. */
  quotaDelayMs?: number;
  /** Source of jitter for backoff. Default Math.random. */
  random?: () => number;
}

export interface Dispatcher {
  /**
   * Sends one task's entries. Resolves when every entry got a result, or was handed back to the queue (signal
   * aborted, or SES paused sending). Rejects when the store, queue or limiter fails: the queue should rerun the task.
   */
  processChunk(task: ChunkTask, signal: AbortSignal): Promise<void>;
}

/** An entry on its way; `attempts` counts the SES calls that carried it (a paused call does not count). */
type Item = CallEntry;

/** The state of one processChunk run. */
interface Run {
  task: ChunkTask;
  signal: AbortSignal;
  content: PreparedContent;
  /** Not sent because the signal aborted: handed back to the queue at once. */
  leftover: Item[];
  /** SES paused sending: everything not sent yet is handed back after `delayMs`. */
  pause?: { delayMs: number; reason: string; items: Item[] };
  /** A job-fatal outcome: the rest of the job was failed with this. */
  fatal?: { status: EntryStatus; error: string };
  /** The first store/limiter failure: stop and rethrow. */
  failure?: { err: unknown };
  /** The job was canceled, finished or deleted: nothing of it is left to send. */
  over?: boolean;
}

interface Outcome {
  retry: Item[];
  reason: string;
}

const NOTHING: Outcome = { retry: [], reason: '' };
const STALE_ERROR = 'in flight when a worker stopped; SES may or may not have sent it';
const PAYLOAD_CACHE_SIZE = 100;
/** How late (ms) a call may leave after its rate-limiter slot before it takes a fresh slot instead. */
const LATE_MS = 25;
/** Fresh slots taken in a row at most, so a saturated machine still makes progress. */
const MAX_REPACE = 4;

const byIndex = (a: Item, b: Item) => a.index - b.index;
const maxAttempts = (items: Item[]) => items.reduce((m, i) => Math.max(m, i.attempts), 0);
const recipientsOf = (items: Item[]) => items.reduce((n, i) => n + countRecipients(i.entry), 0);

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { ses, store, queue, limiter } = options;
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? silentLogger;
  const atLeastOnce = options.atLeastOnce ?? false;
  const callTimeoutMs = options.callTimeoutMs ?? 30_000;
  const attemptsAllowed = options.retry?.attempts ?? 6;
  const backoff = {
    baseDelayMs: options.retry?.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs,
    maxDelayMs: options.retry?.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
  };
  const pausedDelayMs = options.pausedDelayMs ?? 60_000;
  const quotaDelayMs = options.quotaDelayMs ?? 15 * 60_000;
  const random = options.random ?? Math.random;
  const slots = semaphore(options.concurrency ?? 8);
  const tracker = sendTracker();
  /** Job id → its prepared content (attachments decoded once per job). */
  const payloads = new Map<string, Promise<PreparedContent | null>>();

  const at = () => new Date(clock.now()).toISOString();
  const halted = (run: Run) => run.signal.aborted || !!run.failure || !!run.fatal || !!run.pause;

  function emit(event: BulkEmailEvent): void {
    try {
      options.onEvent?.(event);
    } catch (err) {
      logger.error(
        { code: 'EBE_EVENT_HANDLER', type: event.type, err: String(err) },
        'express-bulk-email: onEvent threw',
      );
    }
  }

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

  function settled(run: Run, out: RecordOutcome | null): void {
    if (!out?.finished) return;
    const { jobId } = run.task;
    payloads.delete(jobId);
    const { job } = out;
    if (job.status === 'canceled') emit({ type: 'job.canceled', jobId, counts: job.counts, at: at() });
    else emit({ type: 'job.completed', jobId, status: job.status, counts: job.counts, at: at() });
    logger.info({ jobId, status: job.status, counts: job.counts }, 'express-bulk-email: job finished');
  }

  async function record(run: Run, results: EntryResult[]): Promise<RecordOutcome | null> {
    return results.length > 0 ? store.recordResults(run.task.jobId, results) : null;
  }

  async function failJob(run: Run, fatal: { status: EntryStatus; error: string }): Promise<RecordOutcome | null> {
    run.fatal ??= fatal;
    logger.error(
      { jobId: run.task.jobId, chunk: run.task.chunk, status: fatal.status },
      'express-bulk-email: SES refused the job; failing its remaining entries',
    );
    return store.finishPending(run.task.jobId, fatal);
  }

  function hold(run: Run, items: Item[], status: EntryStatus): void {
    const delayMs = status === 'ACCOUNT_DAILY_QUOTA_EXCEEDED' ? quotaDelayMs : pausedDelayMs;
    run.pause ??= { delayMs, reason: status, items: [] };
    run.pause.delayMs = Math.max(run.pause.delayMs, delayMs);
    run.pause.items.push(...items);
  }

  /** Entries that will not be sent in this run: dropped when the run failed or the job is failed, else handed back. */
  function park(run: Run, items: Item[]): void {
    if (run.failure || run.fatal) return;
    if (run.pause) run.pause.items.push(...items);
    else run.leftover.push(...items);
  }

  function sent(
    run: Run,
    items: Item[],
    counts: { succeeded: number; failed: number; retrying: number },
    requestId?: string,
  ): void {
    const { jobId, chunk } = run.task;
    const attempt = maxAttempts(items);
    const recipients = recipientsOf(items);
    emit({
      type: 'chunk.sent',
      jobId,
      chunk,
      attempt,
      entries: items.length,
      recipients,
      ...counts,
      awsRequestId: requestId,
      at: at(),
    });
    logger.debug(
      { jobId, chunk, attempt, entries: items.length, recipients, ...counts, awsRequestId: requestId },
      'express-bulk-email: SES call done',
    );
  }

  /** Writes a call's plan: results, limiter penalty, job failure, held entries, then the events. */
  async function apply(run: Run, items: CallEntry[], plan: CallPlan, requestId?: string): Promise<CallEntry[]> {
    const recorded = await record(run, plan.results);
    if (plan.throttled) await limiter.penalize();
    const swept = plan.fatal ? await failJob(run, plan.fatal) : null;
    if (plan.held.length > 0 && plan.heldStatus) hold(run, plan.held, plan.heldStatus);
    sent(run, items, plan.counts, requestId);
    settled(run, recorded);
    settled(run, swept);
    return plan.retry;
  }

  function logFailure(run: Run, items: CallEntry[], c: ErrorClass): void {
    const { jobId, chunk } = run.task;
    const { code, kind, httpStatus, requestId: awsRequestId } = c;
    const attempt = maxAttempts(items);
    logger.warn(
      { jobId, chunk, attempt, entries: items.length, code, kind, httpStatus, awsRequestId },
      'express-bulk-email: SES call failed',
    );
  }

  /**
   * Whether the job is canceled, finished or gone. Its entries are final in the store then (bar any a dead worker left
   * in flight), so its calls claim without first reserving a share of the shared rate: a canceled job's remaining
   * calls would otherwise idle every worker for as long as sending them would have taken.
   */
  async function over(run: Run): Promise<boolean> {
    if (!run.over) {
      const job = await store.getJob(run.task.jobId);
      run.over = !job || job.status === 'canceled' || job.status === 'completed';
    }
    return run.over;
  }

  /**
   * Waits for a rate-limiter slot for `recipients` and returns when it was due. A slot missed by more than LATE_MS
   * (a busy event loop, a slow store) is given up for a fresh one: a late call sent anyway would bunch up with the
   * calls reserved after it and take a 1-second window over the rate. Giving up a slot costs throughput, never safety.
   */
  async function pace(recipients: number, signal?: AbortSignal): Promise<number> {
    for (let tries = 1; ; tries++) {
      const wait = await limiter.reserve(recipients);
      const due = clock.now() + wait;
      if (wait > 0) await clock.sleep(wait, signal);
      if (signal?.aborted || clock.now() - due <= LATE_MS || tries >= MAX_REPACE) return due;
    }
  }

  /** One SES call: wait for a slot of the rate limiter, claim, send, record. */
  async function attempt(run: Run, items: Item[]): Promise<Outcome> {
    const paced = !(await over(run));
    const due = paced ? await pace(recipientsOf(items), run.signal) : clock.now();
    if (halted(run)) {
      park(run, items);
      return NOTHING;
    }
    const { jobId, chunk } = run.task;
    const claim = await store.claimEntries(
      jobId,
      items.map((i) => i.index),
    );
    const claimed = new Set(claim.claimed);
    const staleSet = new Set(claim.stale);
    let toSend = items.filter((i) => claimed.has(i.index));
    const stale = items.filter((i) => staleSet.has(i.index)).map((i) => ({ ...i, attempts: i.attempts + 1 }));
    if (stale.length > 0) {
      logger.warn(
        { jobId, chunk, entries: stale.length, resend: atLeastOnce },
        'express-bulk-email: entries were in flight when a worker stopped',
      );
      if (atLeastOnce) toSend = [...toSend, ...stale].sort(byIndex);
      else
        settled(
          run,
          await record(
            run,
            stale.map((i) => ({ index: i.index, status: 'UNKNOWN', error: STALE_ERROR, attempts: i.attempts })),
          ),
        );
    }
    if (toSend.length === 0) return NOTHING;
    // Claimed entries are sent whatever happens now, so they are paced without the abort signal: stale entries resent
    // under atLeastOnce (not paced yet), or any call whose claim took long enough to miss its slot.
    if (!paced || clock.now() - due > LATE_MS) await pace(recipientsOf(toSend));
    const out = toSend.map((i) => ({ ...i, attempts: i.attempts + 1 }));
    let call: SesCallResult;
    try {
      call = await sendBulkEmailCall(ses, run.content, out, { timeoutMs: callTimeoutMs, clock, tracker });
    } catch (err) {
      const c = classifyError(err);
      logFailure(run, out, c);
      const plan = planFromError(out, c, attemptsAllowed, atLeastOnce);
      return { retry: await apply(run, out, plan, c.requestId), reason: plan.reason };
    }
    if (call.mismatch) {
      logger.warn(
        { jobId, chunk, entries: out.length, awsRequestId: call.requestId },
        'express-bulk-email: SES returned a different number of results than entries',
      );
    }
    const plan = planFromAnswer(out, call.results, attemptsAllowed);
    return { retry: await apply(run, out, plan, call.requestId), reason: plan.reason };
  }

  async function runCall(run: Run, items: Item[]): Promise<void> {
    let outcome: Outcome = NOTHING;
    try {
      const release = halted(run) ? null : await slots.acquire(run.signal);
      if (!release) {
        park(run, items);
        return;
      }
      try {
        if (halted(run)) park(run, items);
        else outcome = await attempt(run, items);
      } finally {
        release();
      }
    } catch (err) {
      run.failure ??= { err };
      return;
    }
    if (outcome.retry.length === 0) return;
    if (halted(run)) park(run, outcome.retry);
    else await retryLater(run, outcome);
  }

  async function retryLater(run: Run, { retry, reason }: Outcome): Promise<void> {
    const { jobId, chunk } = run.task;
    const attemptNo = maxAttempts(retry);
    const delayMs = backoffDelay(attemptNo, backoff, random);
    emit({ type: 'chunk.retry', jobId, chunk, attempt: attemptNo, entries: retry.length, delayMs, reason, at: at() });
    logger.info(
      { jobId, chunk, attempt: attemptNo, entries: retry.length, delayMs, reason },
      'express-bulk-email: retrying entries',
    );
    await clock.sleep(delayMs, run.signal);
    await sendAll(run, retry);
  }

  async function sendAll(run: Run, items: Item[]): Promise<void> {
    await Promise.all(splitCalls(items, limiter.maxBurst()).map((call) => runCall(run, call)));
  }

  /** Entries not sent in this run go back to the queue: after the pause delay, or at once after an abort. */
  async function handBack(run: Run): Promise<void> {
    const { jobId, chunk } = run.task;
    const pause = run.pause;
    const items = [...(pause?.items ?? []), ...run.leftover].sort(byIndex);
    if (items.length === 0) return;
    const entries = items.map(({ index, entry, attempts }) => ({ index, entry, attempts }));
    if (pause) {
      await queue.enqueue([{ jobId, chunk, entries }], { delayMs: pause.delayMs });
      emit({
        type: 'chunk.retry',
        jobId,
        chunk,
        attempt: maxAttempts(items),
        entries: items.length,
        delayMs: pause.delayMs,
        reason: pause.reason,
        at: at(),
      });
      logger.warn(
        { jobId, chunk, entries: items.length, delayMs: pause.delayMs, reason: pause.reason },
        'express-bulk-email: SES paused sending; entries wait',
      );
    } else {
      await queue.enqueue([{ jobId, chunk, entries }]);
      logger.info(
        { jobId, chunk, entries: items.length },
        'express-bulk-email: stopping; entries handed back to the queue',
      );
    }
  }

  return {
    async processChunk(task, signal) {
      const content = await payloadFor(task.jobId);
      if (!content) {
        logger.warn(
          { jobId: task.jobId, chunk: task.chunk },
          'express-bulk-email: no such job (expired or deleted); chunk dropped',
        );
        return;
      }
      const run: Run = { task, signal, content, leftover: [] };
      const items = task.entries.map(({ index, entry, attempts }) => ({ index, entry, attempts: attempts ?? 0 }));
      await sendAll(run, items);
      if (run.failure) throw run.failure.err;
      // A retry recorded PENDING while another call failed the job would otherwise wait forever: sweep once more.
      if (run.fatal) settled(run, await store.finishPending(task.jobId, run.fatal));
      else await handBack(run);
    },
  };
}
