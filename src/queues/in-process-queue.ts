// inProcessQueue(): the embedded Queue — every job's unsent work in memory: fair pick, shared pacing, delays, pause, quota.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { recipientsOf } from '../sending/chunk.js';
import { systemClock } from '../sending/clock.js';
import { chargePrincipal, fairShareState, pickPrincipal, shareWeight } from '../sending/fair-share.js';
import { INITIAL_PACING, PACING_TUNING, type PacingState, assertRate, penalize, takeSlot } from '../sending/pacing.js';
import type {
  CallConsumer,
  CallOutcome,
  ChunkTask,
  Clock,
  IndexedEntry,
  Logger,
  Queue,
  QueueStats,
  QueuedWork,
  TakenCall,
} from '../types.js';

export interface InProcessQueueOptions {
  /** Time and sleeps (tests inject a fake clock). Default: the system clock. */
  clock?: Clock;
  /** How far ahead of its pacing slot a call is handed out. Default 200 ms. */
  lookaheadMs?: number;
  /** A consumer that throws gets the call again after this long, doubled each time (at most 60 s). Default 1,000 ms. */
  retryDelayMs?: number;
  /** Where consumer failures are reported; `start({ logger })` overrides it. Default silent. */
  logger?: Logger;
}

/** A task waiting in the queue, with its recipients and how many times a consumer threw on it. */
interface Item {
  task: ChunkTask;
  recipients: number;
  failures: number;
}

interface JobWork {
  jobId: string;
  principalId: string;
  /** Ready to hand out, in index order (work handed back is sorted in by its first index). */
  ready: Item[];
  /** Handed back for later: retries after backoff, entries SES held, a consumer that threw. */
  delayed: Array<Item & { due: number }>;
  /** Scheduled send: nothing before this. */
  notBefore: number;
  paused: boolean;
  /** When its work last became ready (added, resumed, or its scheduled time). */
  readySince: number;
  /** Calls of this job handed out and not reported yet. */
  leases: number;
}

interface Lease {
  job: JobWork;
  item: Item;
}

/** What a take found: a call, or when to look again (undefined: only when woken by add/resume/setQuota/…). */
type Take = { call: TakenCall } | { wakeAt: number | undefined };

const MAX_RETRY_DELAY_MS = 60_000;
const firstIndex = (item: Item) => item.task.entries[0]?.index ?? 0;

/**
 * Lives in this process only (`distributed: false`): its work is lost if the process stops, as is the memory store
 * that tracks it. The take loop holds at most `concurrency` calls, each startable within the lookahead.
 */
export function inProcessQueue(options: InProcessQueueOptions = {}): Queue {
  const clock = options.clock ?? systemClock();
  const tuning = { ...PACING_TUNING, lookaheadMs: options.lookaheadMs ?? PACING_TUNING.lookaheadMs };
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let logger = options.logger;

  const jobs = new Map<string, JobWork>();
  /** Principal → its weight and its jobs with work, in creation order. */
  const principals = new Map<string, { weight: number; jobs: JobWork[] }>();
  const leases = new Map<string, Lease>();
  /** Jobs with work handed back for later, or scheduled later: the only ones a take must look at for due times. */
  const timed = new Set<JobWork>();
  const fair = fairShareState();
  let pacing: PacingState = { ...INITIAL_PACING };
  let rate: number | undefined;
  let quota: number | null = null;

  const controller = new AbortController();
  // Every consumer's sleeps listen on this one signal: many listeners are expected.
  setMaxListeners(0, controller.signal);
  const running = new Set<Promise<void>>();
  let consumer: CallConsumer | undefined;
  let concurrency = 1;
  let closed = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  function wake(): void {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  }

  function isReady(job: JobWork, now: number): boolean {
    return !job.paused && job.notBefore <= now && job.ready.length > 0;
  }

  function forgetIfEmpty(job: JobWork): void {
    if (job.ready.length > 0 || job.delayed.length > 0 || job.leases > 0) return;
    jobs.delete(job.jobId);
    timed.delete(job);
    const p = principals.get(job.principalId);
    if (!p) return;
    p.jobs = p.jobs.filter((j) => j !== job);
    if (p.jobs.length === 0) principals.delete(job.principalId);
  }

  function insertReady(job: JobWork, item: Item): void {
    const at = job.ready.findIndex((other) => firstIndex(other) > firstIndex(item));
    if (at < 0) job.ready.push(item);
    else job.ready.splice(at, 0, item);
  }

  function promote(job: JobWork, now: number): void {
    if (job.delayed.length === 0) return;
    const due = job.delayed.filter((d) => d.due <= now);
    if (due.length === 0) return;
    job.delayed = job.delayed.filter((d) => d.due > now);
    for (const { due: _due, ...item } of due) insertReady(job, item);
    job.readySince = Math.max(job.readySince, Math.min(...due.map((d) => d.due)));
  }

  /** The entries of `item` that fit in the quota left (all of them without a quota); none if not even the first. */
  function fitQuota(item: Item): IndexedEntry[] {
    if (quota === null || item.recipients <= quota) return item.task.entries;
    const fit: IndexedEntry[] = [];
    let n = 0;
    for (const e of item.task.entries) {
      n += recipientsOf([e]);
      if (n > quota) break;
      fit.push(e);
    }
    return fit;
  }

  function take(now: number): Take {
    let wakeAt: number | undefined;
    const later = (at: number) => {
      wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
    };
    for (const job of timed) {
      promote(job, now);
      if (job.delayed.length === 0 && job.notBefore <= now) timed.delete(job);
      else if (!job.paused) {
        for (const d of job.delayed) later(d.due);
        if (job.ready.length > 0 && job.notBefore > now) later(job.notBefore);
      }
    }
    const ready = new Map<string, number>();
    for (const [principalId, p] of principals) {
      if (p.jobs.some((job) => isReady(job, now))) ready.set(principalId, p.weight);
    }
    const principalId = pickPrincipal(fair, ready);
    if (principalId === undefined) return { wakeAt };
    const job = (principals.get(principalId)?.jobs ?? []).find((j) => isReady(j, now)) as JobWork;
    const head = job.ready[0];
    const entries = fitQuota(head);
    if (entries.length === 0) return { wakeAt: undefined }; // the quota is spent: wait for setQuota()
    const recipients = entries === head.task.entries ? head.recipients : recipientsOf(entries);
    let startAt = now;
    if (rate !== undefined) {
      const slot = takeSlot(rate, pacing, now, recipients, tuning);
      if (!slot.ok) return { wakeAt: slot.retryAt };
      pacing = slot.state;
      startAt = slot.startAt;
    }
    let item = head;
    if (entries === head.task.entries) job.ready.shift();
    else {
      item = { task: { ...head.task, entries }, recipients, failures: head.failures };
      const rest = head.task.entries.slice(entries.length);
      job.ready[0] = { task: { ...head.task, entries: rest }, recipients: head.recipients - recipients, failures: 0 };
    }
    chargePrincipal(fair, principalId, recipients);
    if (quota !== null) quota = Math.max(0, quota - recipients);
    const lease = randomUUID();
    job.leases++;
    leases.set(lease, { job, item });
    return { call: { lease, principalId, task: item.task, recipients, startAt } };
  }

  function handBack(job: JobWork, item: Item, due: number): void {
    if (jobs.get(job.jobId) !== job) return; // removed meanwhile
    job.delayed.push({ ...item, due });
    timed.add(job);
  }

  function settle(lease: string, outcome: CallOutcome | undefined, err: unknown): void {
    const held = leases.get(lease);
    if (!held) return;
    leases.delete(lease);
    const { job, item } = held;
    job.leases--;
    if (outcome === undefined) {
      const failures = item.failures + 1;
      const delayMs = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (failures - 1));
      logger?.warn(
        {
          code: 'EBE_CALL_FAILED',
          err: err instanceof Error ? err.message : String(err),
          jobId: job.jobId,
          failures,
          delayMs,
        },
        'express-bulk-email: the consumer threw; the call goes back to the queue',
      );
      handBack(job, { ...item, failures }, clock.now() + delayMs);
    } else if (outcome.kind === 'again' && outcome.entries.length > 0) {
      const task = { ...item.task, entries: outcome.entries };
      handBack(job, { task, recipients: recipientsOf(outcome.entries), failures: 0 }, outcome.notBefore);
    }
    forgetIfEmpty(job);
    wake();
  }

  function launch(call: TakenCall): void {
    const run = consumer as CallConsumer;
    const done = (async () => {
      let outcome: CallOutcome | undefined;
      let failure: unknown;
      try {
        outcome = await run(call, controller.signal);
      } catch (err) {
        failure = err;
      }
      settle(call.lease, outcome, failure);
    })();
    running.add(done);
    void done.finally(() => running.delete(done));
  }

  function wait(until: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const woken = new AbortController();
      wakeUp = () => woken.abort();
      woken.signal.addEventListener('abort', () => resolve(), { once: true });
      if (until !== undefined)
        void clock.sleep(Math.max(1, until - clock.now()), woken.signal).then(() => woken.abort());
    });
  }

  async function takeLoop(): Promise<void> {
    while (!closed) {
      if (leases.size >= concurrency) {
        await wait(undefined);
        continue;
      }
      const got = take(clock.now());
      if ('call' in got) launch(got.call);
      else await wait(got.wakeAt);
    }
  }

  return {
    distributed: false,

    async add(work: QueuedWork) {
      if (jobs.has(work.jobId)) throw new Error(`inProcessQueue: job ${work.jobId} was already added`);
      const now = clock.now();
      const notBefore = work.notBefore ?? 0;
      const job: JobWork = {
        jobId: work.jobId,
        principalId: work.principalId,
        ready: work.tasks.map((task) => ({ task, recipients: recipientsOf(task.entries), failures: 0 })),
        delayed: [],
        notBefore,
        paused: false,
        readySince: Math.max(now, notBefore),
        leases: 0,
      };
      if (job.ready.length === 0) return;
      jobs.set(work.jobId, job);
      if (notBefore > now) timed.add(job);
      const p = principals.get(work.principalId) ?? { weight: 1, jobs: [] };
      if (work.weight !== undefined) p.weight = shareWeight(work.weight);
      p.jobs.push(job);
      principals.set(work.principalId, p);
      wake();
    },

    async pause(jobId) {
      const job = jobs.get(jobId);
      if (job) job.paused = true;
    },

    async resume(jobId, { notBefore } = {}) {
      const job = jobs.get(jobId);
      if (!job) return;
      const now = clock.now();
      job.paused = false;
      if (notBefore !== undefined) job.notBefore = notBefore;
      if (job.notBefore > now) timed.add(job);
      job.readySince = Math.max(now, job.notBefore);
      wake();
    },

    async remove(jobId) {
      const job = jobs.get(jobId);
      if (!job) return;
      job.ready = [];
      job.delayed = [];
      jobs.delete(jobId);
      timed.delete(job);
      const p = principals.get(job.principalId);
      if (p) {
        p.jobs = p.jobs.filter((j) => j !== job);
        if (p.jobs.length === 0) principals.delete(job.principalId);
      }
    },

    async start(consume, { concurrency: limit, logger: startLogger }) {
      if (consumer) throw new Error('inProcessQueue: start() was already called');
      if (closed) throw new Error('inProcessQueue: the queue is closed');
      if (!(Number.isInteger(limit) && limit >= 1))
        throw new TypeError('inProcessQueue: concurrency must be a positive integer');
      consumer = consume;
      concurrency = limit;
      logger = startLogger ?? logger;
      loop = takeLoop();
    },

    setRate(next) {
      assertRate(next, 'inProcessQueue.setRate');
      rate = next;
      wake();
    },

    async penalize() {
      if (rate !== undefined) pacing = penalize(rate, pacing, clock.now(), tuning);
    },

    async setQuota(remaining) {
      quota = remaining === null || remaining < 0 || !Number.isFinite(remaining) ? null : Math.floor(remaining);
      wake();
    },

    async stats() {
      const now = clock.now();
      const out: QueueStats[] = [];
      for (const [principalId, p] of principals) {
        let waitingRecipients = 0;
        let jobsReady = 0;
        let oldest: number | null = null;
        for (const job of p.jobs) {
          if (job.paused || job.notBefore > now) continue;
          const due = job.delayed.filter((d) => d.due <= now);
          if (job.ready.length === 0 && due.length === 0) continue;
          jobsReady++;
          for (const item of [...job.ready, ...due]) waitingRecipients += item.recipients;
          oldest = oldest === null ? job.readySince : Math.min(oldest, job.readySince);
        }
        out.push({ principalId, waitingRecipients, jobs: jobsReady, oldestWaitingSince: oldest, weight: p.weight });
      }
      return out;
    },

    async close() {
      closed = true;
      controller.abort();
      wake();
      await loop;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
