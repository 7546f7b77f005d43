// describeQueueContract(): the behaviour every Queue must show (in-process, Redis, or an app's own), in real time.
import { randomUUID } from 'node:crypto';
import type { TestApi } from './test-api.js';
import type { CallConsumer, CallOutcome, ChunkTask, IndexedEntry, Queue, QueuedWork, TakenCall } from '../types.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** `recipients` addresses per entry, `entries` entries per task, indexes counting on from `from`. */
export function tasksOf(jobId: string, count: number, { entries = 1, recipients = 1, from = 0 } = {}): ChunkTask[] {
  let index = from;
  return Array.from({ length: count }, (_, chunk) => ({
    jobId,
    chunk,
    entries: Array.from({ length: entries }, (): IndexedEntry => {
      const i = index++;
      const to = Array.from({ length: recipients }, (_, r) => `r${i}-${r}@example.com`);
      return { index: i, entry: { Destination: { ToAddresses: to } } };
    }),
  }));
}

export function work(
  principalId: string,
  count: number,
  shape: Parameters<typeof tasksOf>[2] = {},
  extra: Partial<QueuedWork> = {},
) {
  const jobId = `job-${randomUUID()}`;
  return { jobId, principalId, tasks: tasksOf(jobId, count, shape), ...extra };
}

interface Seen extends TakenCall {
  /** Date.now() when the consumer got it. */
  takenAt: number;
}

/** A consumer that records each call and answers `done` (or what `answer` says) at once. */
export function recorder(answer?: (call: TakenCall, n: number) => CallOutcome | Promise<CallOutcome>) {
  const seen: Seen[] = [];
  const consumer: CallConsumer = async (call) => {
    seen.push({ ...call, takenAt: Date.now() });
    return answer ? answer(call, seen.length - 1) : { kind: 'done' };
  };
  const indexes = (jobId?: string) =>
    seen.filter((c) => !jobId || c.task.jobId === jobId).flatMap((c) => c.task.entries.map((e) => e.index));
  return { seen, consumer, indexes };
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/**
 * `makeQueue(name)`: queues made with the same name share their work when the queue is distributed. A consumer
 * that throws must get the call again within a few seconds (configure the retry delay low).
 */
export function describeQueueContract(
  t: TestApi,
  name: string,
  makeQueue: (name: string) => Queue | Promise<Queue>,
): void {
  const { afterEach, describe, expect, it } = t;
  describe(`Queue contract: ${name}`, () => {
    const open: Queue[] = [];
    const make = async (queueName = `q-${randomUUID()}`) => {
      const queue = await makeQueue(queueName);
      open.push(queue);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('hands out every task once as a call, added before or after start, with its entries and recipients', async () => {
      const queue = await make();
      expect(typeof queue.distributed).toBe('boolean');
      queue.setRate(10_000);
      const first = work('p', 3, { entries: 2, recipients: 2 });
      const second = work('p', 2, { entries: 3 });
      const r = recorder();
      await queue.add(first);
      await queue.start(r.consumer, { concurrency: 2 });
      await queue.add(second);
      await until(() => r.seen.length === 5);
      await sleep(100);
      expect(r.seen).toHaveLength(5);
      expect(new Set(r.seen.map((c) => c.lease)).size).toBe(5);
      expect(r.indexes(first.jobId).sort((a, b) => a - b)).toEqual(range(6));
      expect(r.indexes(second.jobId).sort((a, b) => a - b)).toEqual(range(6));
      const one = r.seen.find((c) => c.task.jobId === first.jobId);
      expect(one).toMatchObject({ principalId: 'p', recipients: 4 });
      expect(one?.task.entries).toEqual(first.tasks.find((t) => t.chunk === one?.task.chunk)?.entries);
    });

    it('paces calls: a call of k recipients moves the next slot by k / rate, and is handed out just before its slot', async () => {
      const queue = await make();
      queue.setRate(100); // 10-recipient calls: one every 100 ms
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 8 });
      await queue.add(work('p', 8, { entries: 10 }));
      await until(() => r.seen.length === 8);
      for (let i = 1; i < r.seen.length; i++) {
        expect(r.seen[i].startAt - r.seen[i - 1].startAt).toBeGreaterThanOrEqual(99);
      }
      // A consumer never holds a call it cannot start within about the lookahead.
      for (const c of r.seen) expect(c.startAt - c.takenAt).toBeLessThanOrEqual(400);
      const span = r.seen[7].startAt - r.seen[0].startAt;
      expect(span).toBeGreaterThanOrEqual(690);
      expect(span).toBeLessThan(2000);
    });

    it('shares the rate between principals; a principal alone gets it all; jobs of one principal in creation order', async () => {
      const queue = await make();
      queue.setRate(200); // 10-recipient calls: one every 50 ms
      const r = recorder();
      const a1 = work('a', 10, { entries: 10 });
      const a2 = work('a', 2, { entries: 10 });
      await queue.add(a1);
      await queue.add(a2);
      await queue.start(r.consumer, { concurrency: 4 });
      await until(() => r.seen.length >= 3);
      const b = work('b', 3, { entries: 10 });
      await queue.add(b);
      await until(() => r.seen.length === 15);
      const order = r.seen.map((c) => (c.task.jobId === b.jobId ? 'b' : c.task.jobId === a1.jobId ? 'a1' : 'a2'));
      const firstB = order.indexOf('b');
      // B's three calls alternate with A's once B is there, instead of waiting behind A's twelve.
      expect(order.lastIndexOf('b') - firstB).toBeLessThanOrEqual(5);
      expect(firstB).toBeLessThanOrEqual(5);
      // A's second job starts only after its first is handed out.
      expect(order.indexOf('a2')).toBeGreaterThan(order.lastIndexOf('a1'));
    });

    it('gives a principal with weight 3 three times the share of one with weight 1', async () => {
      const queue = await make();
      queue.setRate(400);
      const r = recorder();
      await queue.add(work('heavy', 20, { entries: 10 }, { weight: 3 }));
      await queue.add(work('light', 20, { entries: 10 }, { weight: 1 }));
      await queue.start(r.consumer, { concurrency: 2 });
      await until(() => r.seen.length >= 16);
      const first = r.seen.slice(0, 16);
      const heavy = first.filter((c) => c.principalId === 'heavy').length;
      expect(heavy).toBeGreaterThanOrEqual(11);
      expect(heavy).toBeLessThanOrEqual(13);
    });

    it('holds at most `concurrency` calls at once in this consumer, and uses them all', async () => {
      const queue = await make();
      queue.setRate(100_000);
      let active = 0;
      let most = 0;
      let done = 0;
      await queue.start(
        async () => {
          most = Math.max(most, ++active);
          await sleep(100);
          active--;
          done++;
          return { kind: 'done' };
        },
        { concurrency: 3 },
      );
      await queue.add(work('p', 9));
      await until(() => done === 9, 10_000);
      expect(most).toBe(3);
    });

    it('hands entries given back with `again` out again, not before their time, in index order with the rest', async () => {
      const queue = await make();
      queue.setRate(100_000);
      const job = work('p', 2, { entries: 3 });
      let handedBackAt = 0;
      const r = recorder((call, n) => {
        if (n !== 0) return { kind: 'done' };
        handedBackAt = Date.now();
        return { kind: 'again', entries: call.task.entries.slice(1), notBefore: Date.now() + 400, reason: 'TEST' };
      });
      await queue.add(job);
      await queue.start(r.consumer, { concurrency: 1 });
      await until(() => r.seen.length === 3, 5000);
      expect(r.seen[2].takenAt - handedBackAt).toBeGreaterThanOrEqual(380);
      expect(r.seen[2].task.entries.map((e) => e.index)).toEqual([1, 2]);
      expect(r.seen[2].task.jobId).toBe(job.jobId);
    });

    it('gives a call whose consumer threw to a consumer again', async () => {
      const queue = await make();
      queue.setRate(100_000);
      const r = recorder((_call, n) => {
        if (n === 0) throw new Error('a bug');
        return { kind: 'done' };
      });
      const job = work('p', 1, { entries: 2 });
      await queue.add(job);
      await queue.start(r.consumer, { concurrency: 1 });
      await until(() => r.seen.length === 2, 15_000);
      expect(r.seen[1].task.entries).toEqual(job.tasks[0].entries);
    });

    it('hands nothing of a paused job out; resume continues exactly where it stopped', async () => {
      const queue = await make();
      queue.setRate(1000); // 10-recipient calls: one every 10 ms
      const job = work('p', 20, { entries: 10 });
      const other = work('q', 3, { entries: 10 });
      const r = recorder();
      await queue.add(job);
      await queue.start(r.consumer, { concurrency: 2 });
      await until(() => r.indexes(job.jobId).length >= 30);
      await queue.pause(job.jobId);
      const settle = r.seen.length;
      await sleep(100);
      const atPause = r.indexes(job.jobId).length;
      expect(r.seen.length - settle).toBeLessThanOrEqual(2); // calls already taken may still arrive
      await queue.add(other);
      await until(() => r.indexes(other.jobId).length === 30);
      await sleep(200);
      expect(r.indexes(job.jobId)).toHaveLength(atPause);
      await queue.resume(job.jobId);
      await until(() => r.indexes(job.jobId).length === 200);
      await sleep(100);
      expect(r.indexes(job.jobId).sort((a, b) => a - b)).toEqual(range(200));
    });

    it('holds a scheduled job until its time, and a resume with notBefore until then', async () => {
      const queue = await make();
      queue.setRate(100_000);
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 1 });
      const added = Date.now();
      await queue.add(work('p', 1, {}, { notBefore: added + 500 }));
      await sleep(250);
      expect(r.seen).toHaveLength(0);
      await until(() => r.seen.length === 1, 5000);
      expect(r.seen[0].takenAt - added).toBeGreaterThanOrEqual(480);

      const paused = work('p', 1, {}, { notBefore: Date.now() + 200 });
      await queue.add(paused);
      await queue.pause(paused.jobId);
      await sleep(300);
      expect(r.seen).toHaveLength(1);
      const resumedAt = Date.now();
      await queue.resume(paused.jobId, { notBefore: resumedAt + 400 });
      await until(() => r.seen.length === 2, 5000);
      expect(r.seen[1].takenAt - resumedAt).toBeGreaterThanOrEqual(380);
    });

    it('forgets a removed job: nothing more of it is handed out', async () => {
      const queue = await make();
      queue.setRate(100);
      const job = work('p', 10, { entries: 10 });
      const r = recorder();
      await queue.add(job);
      await queue.start(r.consumer, { concurrency: 1 });
      await until(() => r.seen.length >= 2);
      await queue.remove(job.jobId);
      const atRemove = r.seen.length;
      await sleep(400);
      expect(r.seen.length - atRemove).toBeLessThanOrEqual(1);
    });

    it('never hands out more recipients than the quota left; splits a task to fit; goes on when it frees', async () => {
      const queue = await make();
      queue.setRate(100_000);
      await queue.setQuota(10);
      const job = work('p', 1, { entries: 20 });
      const r = recorder();
      await queue.add(job);
      await queue.start(r.consumer, { concurrency: 1 });
      await until(() => r.seen.length === 1);
      await sleep(200);
      expect(r.seen).toHaveLength(1);
      expect(r.seen[0].recipients).toBe(10);
      expect(r.indexes()).toEqual(range(10));
      await queue.setQuota(5);
      await until(() => r.seen.length === 2);
      await sleep(100);
      expect(r.seen).toHaveLength(2);
      expect(r.seen[1].task.entries.map((e) => e.index)).toEqual(range(5, 10));
      await queue.setQuota(null);
      await until(() => r.seen.length === 3);
      expect(r.indexes().sort((a, b) => a - b)).toEqual(range(20));
    });

    it('slows down after penalize() (half the rate), recovering gradually', async () => {
      const queue = await make();
      queue.setRate(100); // 5-recipient calls: one every 50 ms
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 4 });
      await queue.penalize();
      await queue.add(work('p', 6, { entries: 5 }));
      await until(() => r.seen.length === 6);
      const gaps = r.seen.slice(1).map((c, i) => c.startAt - r.seen[i].startAt);
      for (const gap of gaps.slice(1)) expect(gap).toBeGreaterThanOrEqual(80);
    });

    it('reports per-principal stats of ready work', async () => {
      const queue = await make();
      const before = Date.now();
      await queue.add(work('a', 3, { entries: 2, recipients: 2 }));
      await queue.add(work('a', 1, { entries: 1 }, { weight: 2 }));
      const paused = work('b', 2);
      await queue.add(paused);
      await queue.pause(paused.jobId);
      await queue.add(work('c', 1, {}, { notBefore: Date.now() + 60_000 }));
      const stats = await queue.stats();
      const a = stats.find((s) => s.principalId === 'a');
      expect(a).toMatchObject({ waitingRecipients: 13, jobs: 2, weight: 2 });
      expect(a?.oldestWaitingSince).toBeGreaterThanOrEqual(before - 1000);
      expect(a?.oldestWaitingSince).toBeLessThanOrEqual(Date.now());
      for (const idle of ['b', 'c']) {
        const s = stats.find((x) => x.principalId === idle);
        if (s) expect(s).toMatchObject({ waitingRecipients: 0, jobs: 0, oldestWaitingSince: null });
      }
    });

    it('close() aborts the consumers’ signal, waits for calls in flight and hands out no more', async () => {
      const queueName = `q-${randomUUID()}`;
      const queue = await make(queueName);
      queue.setRate(100_000);
      let started = 0;
      let finished = 0;
      let abortedSeen = false;
      await queue.start(
        async (call, signal) => {
          started++;
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          abortedSeen = signal.aborted;
          await sleep(100);
          finished++;
          return { kind: 'again', entries: call.task.entries, notBefore: Date.now(), reason: 'WORKER_STOPPED' };
        },
        { concurrency: 2 },
      );
      await queue.add(work('p', 5));
      await until(() => started === 2);
      await queue.close();
      expect(abortedSeen).toBe(true);
      expect(finished).toBe(2);
      await sleep(100);
      expect(started).toBe(2);
      if (!queue.distributed) return;
      // A distributed queue keeps what was handed back for another consumer.
      const second = await make(queueName);
      second.setRate(100_000);
      const r = recorder();
      await second.start(r.consumer, { concurrency: 2 });
      await until(() => r.seen.length === 5);
    });
  });
}
