// redisQueue through its public interface with synthetic consumers: pacing, fair shares, delays, pause, quota, stats.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redisQueue } from '../../src/redis.js';
import type { RedisQueueOptions } from '../../src/redis.js';
import type { Queue } from '../../src/types.js';
import { busiestSecond, deleteQueueKeys, noJobKeys, recorder, sleep, until, work } from './queue-helpers.js';
import { REDIS_URL, uniquePrefix } from './redis-helpers.js';

const url = REDIS_URL as string;

describe.skipIf(!REDIS_URL)('redisQueue', () => {
  const prefixes: string[] = [];
  let open: Queue[] = [];
  /** A fresh prefix (one queue's keys) per test; `n` queues on it (three consumers sharing one queue). */
  const queues = (n: number, options: Partial<RedisQueueOptions> = {}) => {
    const prefix = options.prefix ?? uniquePrefix('rq');
    prefixes.push(prefix);
    const made = Array.from({ length: n }, () => redisQueue({ connection: url, prefix, ...options }));
    open.push(...made);
    return { prefix, queues: made };
  };
  afterEach(async () => {
    await Promise.all(open.map((q) => q.close()));
    open = [];
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteQueueKeys(url, p);
  });

  it('hands out every task once, chunks and entries intact, jobs of a principal in creation order', async () => {
    const {
      prefix,
      queues: [q],
    } = queues(1);
    const { seen, consumer } = recorder();
    await q.add(work('j1', 'A', 3, 50));
    await q.add(work('j2', 'A', 2, 10));
    await q.start(consumer('q'), { concurrency: 2 });
    await until(() => seen.length === 5, 5000, 'five calls');
    expect(seen.map((s) => `${s.jobId}#${s.chunk}`)).toEqual(['j1#0', 'j1#1', 'j1#2', 'j2#0', 'j2#1']);
    expect(seen[1].indexes).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    expect(seen.map((s) => s.recipients)).toEqual([50, 50, 50, 10, 10]);
    await noJobKeys(url, prefix);
  });

  it('paces calls across three consumers: slots k/R apart, any 1 s window ≤ R + one call, each held ≤ lookahead', async () => {
    const rate = 200;
    const { queues: qs } = queues(3);
    const { seen, consumer } = recorder();
    for (const q of qs) q.setRate(rate);
    await qs[0].add(work('paced', 'A', 24, 25));
    await Promise.all(qs.map((q, i) => q.start(consumer(`c${i}`), { concurrency: 4 })));
    await until(() => seen.length === 24, 10_000, 'all 24 calls');
    const slots = seen.map((s) => s.startAt).sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) expect(slots[i] - slots[i - 1]).toBeGreaterThanOrEqual(125 - 5);
    const busiest = busiestSecond(seen.map((s) => ({ at: s.startAt, n: s.recipients })));
    const left = busiestSecond(seen.map((s) => ({ at: Math.max(s.startAt, s.receivedAt), n: s.recipients })));
    console.log(`pacing, 3 consumers at ${rate}/s: busiest second ${busiest} recipients by slot, ${left} as they left`);
    expect(busiest).toBeLessThanOrEqual(rate + 25);
    for (const s of seen) expect(s.startAt - s.receivedAt).toBeLessThanOrEqual(200 + 25);
    // the whole job took about 24 × 125 ms: the three consumers together kept the rate
    expect(slots[23] - slots[0]).toBeLessThan(23 * 125 * 1.15);
    expect(new Set(seen.map((s) => s.by)).size).toBe(3);
  });

  it('shares the rate between principals by weight while both have work; each principal alone gets all of it', async () => {
    const {
      queues: [q],
    } = queues(1);
    const { seen, consumer } = recorder();
    q.setRate(1000);
    await q.add(work('a', 'A', 40, 20));
    await q.start(consumer('q'), { concurrency: 4 });
    await until(() => seen.length >= 4, 5000, 'A under way');
    await q.add(work('b', 'B', 8, 20));
    await q.add(work('c', 'C', 16, 20, { weight: 2 }));
    await until(() => seen.length === 64, 10_000, 'every call');
    const afterB = seen.slice(seen.findIndex((s) => s.principalId === 'B'));
    // While all three have work: A and B one share each, C two: B gets ~8 of the first 32 calls, C ~16.
    const first = afterB.slice(0, 32).map((s) => s.principalId);
    expect(first.filter((p) => p === 'B').length).toBeGreaterThanOrEqual(7);
    expect(first.filter((p) => p === 'C').length).toBeGreaterThanOrEqual(14);
    expect(first.filter((p) => p === 'A').length).toBeGreaterThanOrEqual(7);
    // A alone before and after: every call its own
    expect(seen.slice(0, 4).every((s) => s.principalId === 'A')).toBe(true);
    expect(seen.at(-1)?.principalId).toBe('A');
  });

  it('hands back entries: due now at the front of their job, later not before their time', async () => {
    const {
      prefix,
      queues: [q],
    } = queues(1);
    let first = true;
    const handedBackAt: number[] = [];
    const { seen, consumer } = recorder(async (call) => {
      if (call.task.chunk === 0 && first) {
        first = false;
        handedBackAt.push(Date.now());
        return { kind: 'again', entries: call.task.entries.slice(0, 3), notBefore: Date.now(), reason: 'test' };
      }
      if (call.task.chunk === 1 && handedBackAt.length === 1) {
        handedBackAt.push(Date.now());
        return { kind: 'again', entries: call.task.entries, notBefore: Date.now() + 600, reason: 'retry' };
      }
      return { kind: 'done' };
    });
    await q.add(work('j', 'A', 3, 5));
    await q.start(consumer('q'), { concurrency: 1 });
    await until(() => seen.length === 5, 5000, 'five calls');
    expect(seen.map((s) => `${s.chunk}:${s.indexes.join(',')}`)).toEqual([
      '0:0,1,2,3,4',
      '0:0,1,2',
      '1:5,6,7,8,9',
      '2:10,11,12,13,14',
      '1:5,6,7,8,9',
    ]);
    expect(seen[4].receivedAt - handedBackAt[1]).toBeGreaterThanOrEqual(590);
    expect(seen[4].receivedAt - handedBackAt[1]).toBeLessThan(600 + 1500);
    await noJobKeys(url, prefix);
  });

  it('holds a scheduled job until its notBefore, and says so in stats', async () => {
    const {
      queues: [q],
    } = queues(1);
    const { seen, consumer } = recorder();
    const notBefore = Date.now() + 1200;
    await q.add(work('later', 'S', 2, 10, { notBefore, weight: 3 }));
    await q.start(consumer('q'), { concurrency: 1 });
    expect(await q.stats()).toEqual([
      { principalId: 'S', waitingRecipients: 0, jobs: 0, oldestWaitingSince: null, weight: 3 },
    ]);
    await until(() => seen.length === 2, 5000, 'the scheduled calls');
    expect(seen[0].receivedAt).toBeGreaterThanOrEqual(notBefore - 10);
    // once its calls are settled, the principal has nothing left in the queue
    await until(async () => (await q.stats()).length === 0, 3000, 'the job to leave the stats');
  });

  it('pause hands out nothing more until resume, which continues where it stopped; remove forgets the rest', async () => {
    const {
      prefix,
      queues: [q],
    } = queues(1);
    const { seen, consumer } = recorder();
    q.setRate(100);
    await q.add(work('p', 'A', 10, 20));
    await q.add(work('r', 'B', 10, 20));
    await q.start(consumer('q'), { concurrency: 2 });
    await until(() => seen.filter((s) => s.jobId === 'p').length >= 2, 5000, 'p under way');
    await q.pause('p');
    const pausedAt = Date.now();
    await until(() => seen.filter((s) => s.jobId === 'r').length >= 4, 5000, 'r under way');
    await q.remove('r');
    const removedAt = Date.now();
    await sleep(1000);
    expect(seen.filter((s) => s.jobId === 'p' && s.receivedAt > pausedAt + 20)).toEqual([]);
    expect(seen.filter((s) => s.jobId === 'r' && s.receivedAt > removedAt + 20)).toEqual([]);
    const stats = await q.stats();
    expect(stats).toEqual([{ principalId: 'A', waitingRecipients: 0, jobs: 0, oldestWaitingSince: null, weight: 1 }]);
    await q.resume('p');
    await until(() => seen.filter((s) => s.jobId === 'p').length === 10, 5000, 'the rest of p');
    expect(seen.filter((s) => s.jobId === 'p').map((s) => s.chunk)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await noJobKeys(url, prefix);
  });

  it('never hands out more recipients than the quota leaves, splitting a task to fit', async () => {
    const {
      queues: [q],
    } = queues(1);
    const { seen, consumer } = recorder();
    await q.setQuota(120);
    const added = Date.now();
    await q.add(work('q', 'A', 3, 50));
    await q.start(consumer('q'), { concurrency: 4 });
    await until(() => seen.length === 3, 5000, 'the calls the quota allows');
    await sleep(500);
    expect(seen.map((s) => s.recipients)).toEqual([50, 50, 20]);
    const [stats] = await q.stats();
    expect(stats).toMatchObject({ principalId: 'A', waitingRecipients: 30, jobs: 1 });
    expect(Math.abs((stats.oldestWaitingSince as number) - added)).toBeLessThan(500);
    await q.setQuota(null);
    await until(() => seen.length === 4, 5000, 'the rest once the quota is lifted');
    expect(seen[3]).toMatchObject({ chunk: 2, recipients: 30, indexes: Array.from({ length: 30 }, (_, i) => 120 + i) });
  });

  it('reruns a call whose consumer throws, with backoff doubling, and drops nothing', async () => {
    const {
      prefix,
      queues: [q],
    } = queues(1, { retryDelayMs: 150 });
    const runs: number[] = [];
    await q.add(work('t', 'A', 1, 3));
    await q.start(
      async (call) => {
        runs.push(Date.now());
        if (runs.length < 4) throw new Error('consumer bug');
        expect(call.task.entries.map((e) => e.index)).toEqual([0, 1, 2]);
        return { kind: 'done' };
      },
      { concurrency: 1 },
    );
    await until(() => runs.length === 4, 5000, 'four runs');
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(140);
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(290);
    expect(runs[3] - runs[2]).toBeGreaterThanOrEqual(590);
    await noJobKeys(url, prefix);
  });

  it('slows every consumer down after penalize()', async () => {
    const { queues: qs } = queues(2);
    const { seen, consumer } = recorder();
    for (const q of qs) q.setRate(400);
    await qs[0].add(work('slow', 'A', 12, 40));
    await qs[1].penalize();
    await Promise.all(qs.map((q, i) => q.start(consumer(`c${i}`), { concurrency: 2 })));
    await until(() => seen.length === 12, 10_000, 'every call');
    const slots = seen.map((s) => s.startAt).sort((a, b) => a - b);
    // 40 recipients at 200/s (halved), recovering by 40/s each second: the first gaps are ≈ 200 ms, never 100
    expect(slots[1] - slots[0]).toBeGreaterThan(170);
    expect(slots[11] - slots[0]).toBeGreaterThan(11 * 100 * 1.3);
  });

  it('refuses bad options at build time', () => {
    expect(() => redisQueue({ connection: url, prefix: 'a{b}' })).toThrow(TypeError);
    expect(() => redisQueue({ connection: url, leaseMs: 10 })).toThrow(/leaseMs/);
  });
});
