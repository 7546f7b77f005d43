// Shared bits of the Redis queue suites: synthetic work, a recording consumer, polling, and the queue's keys.
import { Redis } from 'ioredis';
import type { CallConsumer, CallOutcome, ChunkTask, QueuedWork, TakenCall } from '../../src/types.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 20 ms until it returns a truthy value; fails after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A job of `calls` tasks of `perCall` single-recipient entries (indexes 0…), as the engine would add it. */
export function work(
  jobId: string,
  principalId: string,
  calls: number,
  perCall: number,
  extra: Partial<QueuedWork> = {},
): QueuedWork {
  const tasks: ChunkTask[] = [];
  for (let c = 0; c < calls; c++) {
    tasks.push({
      jobId,
      chunk: c,
      entries: Array.from({ length: perCall }, (_, i) => {
        const index = c * perCall + i;
        return { index, entry: { Destination: { ToAddresses: [`r${index}@example.com`] } } };
      }),
    });
  }
  return { jobId, principalId, tasks, ...extra };
}

export interface Seen {
  lease: string;
  principalId: string;
  jobId: string;
  chunk: number;
  indexes: number[];
  recipients: number;
  startAt: number;
  /** When the consumer got the call. */
  receivedAt: number;
  /** Which consumer (queue instance or process) took it. */
  by: string;
}

/**
 * A consumer that records every call; by default it sleeps until the call's slot (as the dispatcher does) and is
 * done. `decide` may return another outcome (or throw).
 */
export function recorder(decide?: (call: TakenCall, seen: Seen) => Promise<CallOutcome> | CallOutcome) {
  const seen: Seen[] = [];
  const consumer =
    (by: string): CallConsumer =>
    async (call) => {
      const s: Seen = {
        lease: call.lease,
        principalId: call.principalId,
        jobId: call.task.jobId,
        chunk: call.task.chunk,
        indexes: call.task.entries.map((e) => e.index),
        recipients: call.recipients,
        startAt: call.startAt,
        receivedAt: Date.now(),
        by,
      };
      seen.push(s);
      if (decide) return decide(call, s);
      await sleep(call.startAt - Date.now());
      return { kind: 'done' };
    };
  return { seen, consumer };
}

/** The queue's keys (hash tag `{prefix}`), for checks and cleanup. */
export async function queueKeys(url: string, prefix: string): Promise<string[]> {
  const redis = new Redis(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys.sort();
  } finally {
    redis.disconnect();
  }
}

export async function deleteQueueKeys(url: string, prefix: string): Promise<void> {
  const keys = await queueKeys(url, prefix);
  if (keys.length === 0) return;
  const redis = new Redis(url);
  try {
    await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Keys that belong to one job or to calls out: none may be left once every job is finished or removed. */
export const JOB_KEY = /}:(job|work|held|jobs):|}:(leases|due|sched)$/;

/** Waits until no key of a job or a call out is left under `prefix` (the last settles may still be on their way). */
export async function noJobKeys(url: string, prefix: string): Promise<void> {
  let left: string[] = [];
  try {
    await until(
      async () => {
        left = (await queueKeys(url, prefix)).filter((k) => JOB_KEY.test(k));
        return left.length === 0;
      },
      3000,
      'the job keys to go',
    );
  } catch {
    throw new Error(`keys left behind: ${left.join(', ')}`);
  }
}

/** Largest number of recipients whose slots fall in any window [t, t + 1 s). */
export function busiestSecond(calls: { at: number; n: number }[]): number {
  const sorted = [...calls].sort((a, b) => a.at - b.at);
  let best = 0;
  for (let i = 0; i < sorted.length; i++) {
    let sum = 0;
    for (let j = i; j < sorted.length && sorted[j].at < sorted[i].at + 1000; j++) sum += sorted[j].n;
    best = Math.max(best, sum);
  }
  return best;
}
