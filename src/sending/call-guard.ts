// guardCalls(): a dispatcher that throws (a bug, a store down too long) gets the call back a few times, then settles it.
import type { BulkEmailEvent, CallConsumer, Clock, EntryResult, Logger, Store, TakenCall } from '../types.js';
import { entryError } from './entry-errors.js';
import { jobEndEvent } from './job-end.js';

export interface CallGuardOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  emit: (event: BulkEmailEvent) => void;
  /** Throws allowed per call before its entries are settled. */
  attempts: number;
  /** Wait before the call is handed out again, doubled each time. */
  retryDelayMs: number;
}

/** Calls remembered at most (a throw is rare; the oldest record is dropped beyond this). */
const MAX_TRACKED = 10_000;

/**
 * Wraps `dispatch` so that a call it throws on goes back to the queue with backoff, and after `attempts` throws its
 * entries end FAILED `QUEUE_ATTEMPTS_EXHAUSTED` (never a final status overwritten): every job finishes. Only if that
 * write fails too does the throw reach the queue, which keeps the work and retries it.
 */
export function guardCalls(dispatch: CallConsumer, options: CallGuardOptions): CallConsumer {
  const { store, clock, logger } = options;
  /** Call key → throws so far. */
  const failures = new Map<string, number>();
  const keyOf = (call: TakenCall) => `${call.task.jobId}\0${call.task.chunk}\0${call.task.entries[0]?.index ?? -1}`;

  return async (call, signal) => {
    const key = keyOf(call);
    try {
      const outcome = await dispatch(call, signal);
      failures.delete(key);
      return outcome;
    } catch (err) {
      const n = (failures.get(key) ?? 0) + 1;
      const { jobId, chunk } = call.task;
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (n < options.attempts) {
        failures.delete(key); // re-insert: the map stays in order of last failure
        failures.set(key, n);
        if (failures.size > MAX_TRACKED) failures.delete(failures.keys().next().value as string);
        const delayMs = options.retryDelayMs * 2 ** (n - 1);
        logger.error(
          { code: 'EBE_CALL_FAILED', jobId, chunk, failures: n, delayMs, err: text },
          'express-bulk-email: sending a call failed; it goes back to the queue',
        );
        return { kind: 'again', entries: call.task.entries, notBefore: clock.now() + delayMs, reason: 'CALL_FAILED' };
      }
      logger.error(
        { code: 'EBE_CALL_ABANDONED', jobId, chunk, failures: n, err: text },
        'express-bulk-email: sending a call failed repeatedly; its entries end FAILED (QUEUE_ATTEMPTS_EXHAUSTED)',
      );
      const error = entryError('QUEUE_ATTEMPTS_EXHAUSTED');
      const results: EntryResult[] = call.task.entries.map((e) => ({
        index: e.index,
        status: 'FAILED',
        error,
        attempts: e.attempts ?? 0,
      }));
      const out = await store.recordResults(jobId, results);
      failures.delete(key);
      if (out.finished) options.emit(jobEndEvent(out.job, new Date(clock.now()).toISOString()));
      return { kind: 'done' };
    }
  };
}
