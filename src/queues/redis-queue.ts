// redisQueue(): the distributed Queue — every job's unsent work in Redis; any number of worker processes take from it.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { shareWeight } from '../sending/fair-share.js';
import { assertRate, PACING_TUNING } from '../sending/pacing.js';
import {
  checkConnection,
  closeClient,
  ownClient,
  type RedisClient,
  type RedisConnection,
  redisGuard,
} from '../stores/redis-connection.js';
import type { CallConsumer, Logger, Queue, QueuedWork, QueueStats, TakenCall } from '../types.js';
import { decodeItem, encodeItem } from './redis-queue-items.js';
import { ADD, PAUSE, PENALIZE, REMOVE, RESUME, SET_QUOTA, SETTLE, STATS, TAKE } from './redis-queue-scripts.js';

export interface RedisQueueOptions {
  /**
   * A redis:// URL, ioredis options naming a server, an ioredis `Redis` instance (its options are reused; the instance
   * is left alone) or an ioredis `Cluster`. The queue opens its own connections to that server.
   */
  connection: RedisConnection;
  /** Every key is under the hash tag `{<prefix>}`; all web and worker processes of one app use the same. Default `ebe`. */
  prefix?: string;
  /**
   * A call whose consumer throws goes back to the queue after this long, doubled each time (at most 60 s), and is
   * retried as long as it throws: no entry is dropped. (The engine's guard settles a call that keeps failing first:
   * its entries end FAILED `QUEUE_ATTEMPTS_EXHAUSTED`; a throw reaches the queue only if that write failed too.)
   * Default 1,000 ms.
   */
  retryDelayMs?: number;
  /**
   * A worker's heartbeat lives this long (renewed every leaseMs / 7): the calls of a worker that stopped renewing it
   * (it crashed) go back to the queue about this long after. Default 15,000 ms.
   */
  leaseMs?: number;
  /** How long add/pause/resume/remove/stats and start() wait for Redis before failing with 503. Default 5,000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

const MAX_RETRY_DELAY_MS = 60_000;
/** Items per ADD script call (a job of any size is added in batches, each applied once). */
const ADD_BATCH_ITEMS = 200;
const ADD_BATCH_BYTES = 4 * 1024 * 1024;
/** How long a take waits at most before looking again without a wake-up. */
const POLL_MS = 1000;
/** After close(), settles still failing are retried this long before they are left to the lease reclaim. */
const CLOSE_SETTLE_MS = 10_000;

type Reply = (string | number)[];
type Script = (key: string, ...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  ebeqTake: Script;
  ebeqSettle: Script;
  ebeqAdd: Script;
  ebeqPause: Script;
  ebeqResume: Script;
  ebeqRemove: Script;
  ebeqPenalize: Script;
  ebeqSetQuota: Script;
  ebeqStats: Script;
}
const SCRIPTS: Record<keyof Scripts, string> = {
  ebeqTake: TAKE,
  ebeqSettle: SETTLE,
  ebeqAdd: ADD,
  ebeqPause: PAUSE,
  ebeqResume: RESUME,
  ebeqRemove: REMOVE,
  ebeqPenalize: PENALIZE,
  ebeqSetQuota: SET_QUOTA,
  ebeqStats: STATS,
};

/** A Lua error (a reply, not a lost connection): retrying the same script would fail the same way. */
const isScriptError = (err: unknown) =>
  (err as { name?: string })?.name === 'ReplyError' && /ERR .*script|user_script/i.test((err as Error).message);

type Settle = { mode: 'done' } | { mode: 'again'; notBefore: number; item: string } | { mode: 'release' };

function checkOptions(options: RedisQueueOptions): Required<Omit<RedisQueueOptions, 'connection' | 'logger'>> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      "redisQueue(options) needs an options object, e.g. redisQueue({ connection: 'redis://127.0.0.1:6379' })",
    );
  }
  const prefix = options.prefix ?? 'ebe';
  if (typeof prefix !== 'string' || !/^[^{}\s]{1,100}$/.test(prefix)) {
    throw new TypeError('redisQueue: prefix must be 1-100 characters without spaces or braces, e.g. "ebe"');
  }
  const int = (name: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min) throw new TypeError(`redisQueue: ${name} must be an integer ≥ ${min}`);
    return v;
  };
  return {
    prefix,
    retryDelayMs: int('retryDelayMs', options.retryDelayMs, 1000, 0),
    leaseMs: int('leaseMs', options.leaseMs, 15_000, 1000),
    timeoutMs: int('timeoutMs', options.timeoutMs, 5000, 1),
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Each take is one Lua script (redis-queue-scripts.ts: keys, algorithm), timed by Redis TIME, so any number of
 * processes together behave as one queue. Each process that start()s runs one take loop with `concurrency` calls in
 * flight; an idle loop waits for a wake-up message (or 1 s). Each call handed out is leased to its worker, whose
 * heartbeat key keeps its leases; a take puts back the leases of workers whose heartbeat is gone (one scan a second
 * at most). Settles (done / again) are retried until Redis answers while the process lives, and are safe to repeat.
 */
export function redisQueue(options: RedisQueueOptions): Queue {
  const { prefix, retryDelayMs, leaseMs, timeoutMs } = checkOptions(options);
  const connection = checkConnection(options.connection, 'redisQueue');
  const tag = `{${prefix}}`;
  const stateKey = `${tag}:state`;
  const wakeChannel = `${tag}:wake`;
  const worker = randomUUID();
  const heartbeatKey = `${tag}:hb:${worker}`;
  let logger = options.logger;

  // A command whose reply a reconnect lost is not sent again (it fails after timeoutMs): every script runs at most
  // once per call here, and the callers repeat what is safe to repeat (a lost take is given back, settles retried).
  const client = ownClient(connection, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    keyPrefix: '',
  });
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua, numberOfKeys: 1 });
  const scripts = client as unknown as Scripts;
  const guard = redisGuard(client);

  let rate: number | undefined;
  let consumer: CallConsumer | undefined;
  let concurrency = 1;
  let subscriber: RedisClient | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let closingAt = 0;
  const stop = new AbortController();
  // Every consumer's sleeps listen on this one signal: many listeners are expected.
  setMaxListeners(0, stop.signal);
  /** Calls in flight here, each until its settle is stored. */
  const running = new Set<Promise<void>>();
  /** Settles of takes whose reply was lost. */
  const releasing = new Set<Promise<void>>();
  let wakeUp: (() => void) | undefined;
  let outage = false;
  /**
   * Local clock − Redis clock. `lowest`: the least delayed of the recent samples (a reply handled late by a busy event
   * loop never moves a slot earlier; it may creep up by 1 ms per second so that a local clock set back is followed).
   * `applied`: what slots are mapped with; it follows `lowest` up at once (slots later: safe) and down by at most
   * 0.5 % of the Redis time passed (so two calls of this process are never mapped closer than their slots are).
   */
  const offset = { lowest: Number.NaN, lowestAt: 0, applied: Number.NaN, appliedAt: 0 };
  const observe = (redisNow: number, slew: boolean) => {
    const now = Date.now();
    const sample = now - redisNow;
    const o = offset;
    o.lowest = Number.isNaN(o.lowest) ? sample : Math.min(sample, o.lowest + (now - o.lowestAt) / 1000);
    o.lowestAt = now;
    const slewed = o.applied - 0.005 * Math.max(0, redisNow - o.appliedAt);
    o.applied = !slew || Number.isNaN(o.applied) || o.lowest >= o.applied ? o.lowest : Math.max(o.lowest, slewed);
    o.appliedAt = redisNow;
  };
  const toLocal = (redisTime: number, redisNow: number) => {
    observe(redisNow, true);
    return redisTime + offset.applied;
  };
  /** A few round trips before the first take, so that the first calls are mapped with a good offset already. */
  const calibrate = async () => {
    for (let i = 0; i < 5; i++) {
      // TIME of the node that holds the queue's slot (on a Cluster, another node's clock would not do).
      const [seconds, micros] = (await client.eval("return redis.call('TIME')", 1, stateKey)) as string[];
      observe(Number(seconds) * 1000 + Number(micros) / 1000, false);
    }
  };

  const wake = () => {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  };
  /** Resolves after `ms`, on a wake-up, or on close. */
  const waitForWork = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      function done() {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', done);
        resolve();
      }
      wakeUp = done;
      stop.signal.addEventListener('abort', done, { once: true });
    });

  function reportOutage(err: unknown): void {
    if (outage) return;
    outage = true;
    logger?.warn(
      { code: 'EBE_QUEUE_UNREACHABLE', err },
      'express-bulk-email: Redis does not answer; the queue keeps retrying',
    );
  }
  function reportRecovered(): void {
    if (!outage) return;
    outage = false;
    logger?.info({ code: 'EBE_QUEUE_RECOVERED' }, 'express-bulk-email: Redis answers again');
  }

  /** Stores a settle, retrying until Redis answers (safe: a settle of a lease already gone changes nothing). */
  async function settle(lease: string, outcome: Settle): Promise<void> {
    let what = outcome;
    for (let attempt = 0; ; attempt++) {
      try {
        const due = what.mode === 'again' ? Math.round(what.notBefore - Date.now()) : 0;
        const delayMs = Number.isFinite(due) ? Math.max(0, due) : 0;
        const item = what.mode === 'again' ? what.item : '';
        await scripts.ebeqSettle(stateKey, lease, what.mode, delayMs, item);
        logger?.debug({ code: 'EBE_QUEUE_SETTLED', lease, mode: what.mode }, 'express-bulk-email: call settled');
        reportRecovered();
        return;
      } catch (err) {
        if (isScriptError(err) && what.mode === 'again') {
          // Redis answered, but not to this hand-back (it cannot be stored as given): put the whole call back instead.
          logger?.error(
            { code: 'EBE_QUEUE_SETTLE_REFUSED', err, lease },
            'express-bulk-email: a hand-back was refused; the whole call goes back to the queue',
          );
          what = { mode: 'release' };
          continue;
        }
        reportOutage(err);
        if (closing && Date.now() - closingAt > CLOSE_SETTLE_MS && attempt >= 2) {
          logger?.error(
            { code: 'EBE_QUEUE_SETTLE_LEFT', err, lease, mode: what.mode },
            'express-bulk-email: closing without storing a call outcome; its lease goes back when the heartbeat expires',
          );
          return;
        }
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  function track(set: Set<Promise<void>>, p: Promise<void>): void {
    set.add(p);
    void p.finally(() => set.delete(p));
  }

  function launch(reply: Reply): void {
    const [, lease, principalId, jobId, startAt, recipients, itemText, redisNow] = reply as string[];
    const item = decodeItem(itemText);
    const call: TakenCall = {
      lease,
      principalId,
      task: { jobId, chunk: item.chunk, entries: item.entries },
      recipients: Number(recipients),
      startAt: toLocal(Number(startAt), Number(redisNow)),
    };
    const run = consumer as CallConsumer;
    logger?.debug({ code: 'EBE_QUEUE_CALL', lease, jobId, chunk: item.chunk }, 'express-bulk-email: call taken');
    const done = (async () => {
      let what: Settle;
      try {
        const outcome = await run(call, stop.signal);
        what =
          outcome.kind === 'again' && outcome.entries.length > 0
            ? { mode: 'again', notBefore: outcome.notBefore, item: encodeItem(item.chunk, 0, outcome.entries) }
            : { mode: 'done' };
      } catch (err) {
        what = failed(call, item.failures + 1, err);
      }
      await settle(lease, what);
      wake();
    })();
    track(running, done);
  }

  /** A consumer threw (a bug, or a store down too long for the engine to settle the call): the call again later. */
  function failed(call: TakenCall, failures: number, err: unknown): Settle {
    const { jobId, chunk, entries } = call.task;
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** Math.min(failures - 1, 16));
    logger?.warn(
      { code: 'EBE_CALL_FAILED', err, jobId, chunk, failures, delayMs },
      'express-bulk-email: the consumer threw; the call goes back to the queue',
    );
    return { mode: 'again', notBefore: Date.now() + delayMs, item: encodeItem(chunk, failures, entries) };
  }

  async function takeLoop(): Promise<void> {
    let errors = 0;
    while (!stop.signal.aborted) {
      if (running.size >= concurrency) {
        await Promise.race([...running, waitForWork(POLL_MS)]);
        continue;
      }
      const lease = randomUUID();
      let reply: Reply;
      try {
        reply = (await scripts.ebeqTake(
          stateKey,
          worker,
          lease,
          rate ?? '',
          PACING_TUNING.lookaheadMs,
          PACING_TUNING.recoveryPerSecond,
        )) as Reply;
        errors = 0;
        reportRecovered();
      } catch (err) {
        // The take may have been applied with its reply lost: give its lease back (a no-op if it was not).
        track(releasing, settle(lease, { mode: 'release' }));
        reportOutage(err);
        errors++;
        await sleep(Math.min(2000, 100 * 2 ** errors), stop.signal);
        continue;
      }
      const [kind, retryAt, redisNow] = reply as string[];
      if (kind === 'call') {
        try {
          if (stop.signal.aborted) throw new Error('closing');
          launch(reply);
        } catch (err) {
          // Closing, or a reply this process cannot read: the call goes back at once for another taker.
          if (!stop.signal.aborted)
            logger?.error({ code: 'EBE_QUEUE_BAD_CALL', err }, 'express-bulk-email: a call could not be started');
          track(running, settle(lease, { mode: 'release' }));
        }
      } else if (kind === 'pace') {
        await sleep(Math.min(POLL_MS, Number(retryAt) - Number(redisNow)), stop.signal);
      } else {
        await waitForWork(retryAt === '' ? POLL_MS : Math.min(POLL_MS, Number(retryAt) - Number(redisNow)));
      }
    }
  }

  const beat = () => client.set(heartbeatKey, '1', 'PX', leaseMs);

  return {
    distributed: true,

    add: (work: QueuedWork) =>
      guard(async () => {
        const items = work.tasks
          .filter((task) => task.entries.length > 0)
          .map((task) => encodeItem(task.chunk, 0, task.entries));
        if (items.length === 0) return;
        const weight = work.weight === undefined ? '' : shareWeight(work.weight);
        const delayMs = work.notBefore === undefined ? 0 : Math.round(work.notBefore - Date.now());
        let from = 0;
        while (from < items.length) {
          let end = from;
          let bytes = 0;
          while (end < items.length && end - from < ADD_BATCH_ITEMS && (end === from || bytes < ADD_BATCH_BYTES)) {
            bytes += items[end].length;
            end++;
          }
          const added = Number(
            await scripts.ebeqAdd(
              stateKey,
              work.jobId,
              work.principalId,
              weight,
              delayMs,
              from,
              items.length,
              ...items.slice(from, end),
            ),
          );
          if (!(added > from)) throw new Error(`redisQueue: job ${work.jobId} was already added`);
          from = added;
        }
      }),

    pause: (jobId) =>
      guard(async () => {
        await scripts.ebeqPause(stateKey, jobId);
      }),

    resume: (jobId, { notBefore } = {}) =>
      guard(async () => {
        await scripts.ebeqResume(stateKey, jobId, notBefore === undefined ? '' : Math.round(notBefore - Date.now()));
      }),

    remove: (jobId) =>
      guard(async () => {
        await scripts.ebeqRemove(stateKey, jobId);
      }),

    async start(consume, startOptions) {
      if (consumer) throw new Error('redisQueue: start() was already called');
      if (closing) throw new Error('redisQueue: the queue is closed');
      const limit = startOptions.concurrency;
      if (!(Number.isInteger(limit) && limit >= 1))
        throw new TypeError('redisQueue: concurrency must be a positive integer');
      logger = startOptions.logger ?? logger;
      await guard(beat);
      await guard(calibrate);
      const sub = ownClient(connection, { maxRetriesPerRequest: null, enableOfflineQueue: true, keyPrefix: '' });
      sub.on('error', (err) => reportOutage(err));
      sub.on('message', wake);
      subscriber = sub;
      try {
        await guard(() => sub.subscribe(wakeChannel));
      } catch (err) {
        subscriber = undefined;
        sub.disconnect();
        throw err;
      }
      consumer = consume;
      concurrency = limit;
      heartbeat = setInterval(() => void beat().catch(reportOutage), Math.max(100, Math.floor(leaseMs / 7)));
      loop = takeLoop().catch((err) => {
        logger?.error({ code: 'EBE_QUEUE_LOOP_FAILED', err }, 'express-bulk-email: the take loop stopped');
      });
    },

    setRate(next) {
      assertRate(next, 'redisQueue.setRate');
      rate = next;
      wake();
    },

    penalize: () =>
      guard(async () => {
        if (rate === undefined) return;
        await scripts.ebeqPenalize(
          stateKey,
          rate,
          PACING_TUNING.recoveryPerSecond,
          PACING_TUNING.minFraction,
          PACING_TUNING.penaltyWindowMs,
        );
      }),

    setQuota: (remaining) =>
      guard(async () => {
        const quota = remaining === null || !Number.isFinite(remaining) || remaining < 0 ? '' : Math.floor(remaining);
        await scripts.ebeqSetQuota(stateKey, quota);
      }),

    stats: () =>
      guard(async (): Promise<QueueStats[]> => {
        const reply = (await scripts.ebeqStats(stateKey)) as Reply;
        const redisNow = Number(reply[0]);
        const out: QueueStats[] = [];
        for (let i = 1; i < reply.length; i += 5) {
          const oldest = String(reply[i + 3]);
          out.push({
            principalId: String(reply[i]),
            waitingRecipients: Number(reply[i + 1]),
            jobs: Number(reply[i + 2]),
            oldestWaitingSince: oldest === '' ? null : Math.round(toLocal(Number(oldest), redisNow)),
            weight: Number(reply[i + 4]),
          });
        }
        return out;
      }),

    close() {
      closing ??= (async () => {
        closingAt = Date.now();
        stop.abort();
        wake();
        await loop;
        while (running.size > 0 || releasing.size > 0) await Promise.allSettled([...running, ...releasing]);
        clearInterval(heartbeat);
        if (consumer) {
          await Promise.all([client.del(heartbeatKey), client.zrem(`${tag}:takers`, worker)]).catch(() => undefined);
        }
        if (subscriber) await closeClient(subscriber);
        await closeClient(client);
      })();
      return closing;
    },
  };
}
