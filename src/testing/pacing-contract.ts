// describePacingContract(): the shared rate limit every Queue applies (setRate, penalize, k / R between call slots).
import type { Queue, TakenCall } from '../types.js';
import { recorder, sleep, until, work } from './queue-contract.js';
import type { TestApi } from './test-api.js';

/**
 * Slot times are ms; a queue that stores them as whole ms (Redis) may round each by up to 1 ms. The assertions are
 * on the slots the queue hands out (`TakenCall.startAt`), never on measured time, so a slow machine cannot fail them.
 */
const ROUNDING_MS = 1;

const bySlot = (calls: readonly TakenCall[]) => [...calls].sort((a, b) => a.startAt - b.startAt);

/**
 * `makeQueue(name)` as for describeQueueContract: queues made with the same name share their work and their
 * pacing when the queue is distributed. The rule: after a call of k recipients, the next call of any principal,
 * taken by any consumer, leaves no sooner than k / R seconds later (R = setRate, halved at most by penalize()).
 */
export function describePacingContract(
  t: TestApi,
  name: string,
  makeQueue: (name: string) => Queue | Promise<Queue>,
): void {
  const { describe, it, expect, afterEach } = t;

  /** Each slot is at least the previous call's k / rate after it. */
  function expectPaced(calls: readonly TakenCall[], rate: number): void {
    const slots = bySlot(calls);
    for (let i = 1; i < slots.length; i++) {
      const previous = slots[i - 1];
      const gap = slots[i].startAt - previous.startAt;
      expect(gap, `gap after call ${i - 1} (${previous.recipients} recipients)`).toBeGreaterThanOrEqual(
        (previous.recipients * 1000) / rate - ROUNDING_MS,
      );
    }
  }

  describe(`Pacing contract: ${name}`, () => {
    const open: Queue[] = [];
    const make = async (queueName: string) => {
      const queue = await makeQueue(queueName);
      open.push(queue);
      return queue;
    };
    const fresh = () => `pacing-${Math.random().toString(36).slice(2)}`;
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('after a call of k recipients, the next leaves no sooner than k / R (calls of different sizes)', async () => {
      const queue = await make(fresh());
      const rate = 500;
      queue.setRate(rate);
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 4 });
      const sizes = [5, 40, 1, 25, 10, 30, 2];
      for (const [i, k] of sizes.entries()) await queue.add(work(`p${i}`, 1, { entries: k }));
      await until(() => r.seen.length === sizes.length, 20_000, 'every call');
      expect(r.seen.map((c) => c.recipients).sort((a, b) => a - b)).toEqual([...sizes].sort((a, b) => a - b));
      expectPaced(r.seen, rate);
      // Over the whole run: the first slot to the last spans at least everything but the last call, at R.
      const slots = bySlot(r.seen);
      const carried = slots.slice(0, -1).reduce((n, c) => n + c.recipients, 0);
      expect(slots.at(-1)!.startAt - slots[0].startAt).toBeGreaterThanOrEqual((carried * 1000) / rate - ROUNDING_MS);
    });

    it('one schedule for every principal and every consumer', async () => {
      const queueName = fresh();
      const first = await make(queueName);
      const rate = 400;
      first.setRate(rate);
      const a = recorder();
      await first.start(a.consumer, { concurrency: 3 });
      // A distributed queue: a second consumer (another process in production) shares the one schedule.
      const b = recorder();
      if (first.distributed) {
        const second = await make(queueName);
        second.setRate(rate);
        await second.start(b.consumer, { concurrency: 3 });
      }
      await first.add(work('a', 6, { entries: 10 }));
      await first.add(work('b', 6, { entries: 10 }, { weight: 2 }));
      await until(() => a.seen.length + b.seen.length === 12, 20_000, 'every call');
      const all = [...a.seen, ...b.seen];
      expect(new Set(all.map((c) => c.principalId))).toEqual(new Set(['a', 'b']));
      expectPaced(all, rate);
    });

    it('setRate() applies to the calls taken after it', async () => {
      const queue = await make(fresh());
      queue.setRate(2000);
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 2 });
      await queue.add(work('p', 4, { entries: 10 }));
      await until(() => r.seen.length === 4, 20_000, 'the first calls');
      expectPaced(r.seen, 2000);
      queue.setRate(100);
      await sleep(50);
      const before = r.seen.length;
      await queue.add(work('p', 4, { entries: 10 }));
      await until(() => r.seen.length === before + 4, 20_000, 'the calls at the new rate');
      expectPaced(r.seen.slice(before), 100);
    });

    it('penalize() slows every later call to at most half the rate, recovering at most 10 % of R per second', async () => {
      const queue = await make(fresh());
      const rate = 1000;
      queue.setRate(rate);
      const r = recorder();
      await queue.start(r.consumer, { concurrency: 2 });
      const penalizedAt = Date.now();
      await queue.penalize();
      await queue.add(work('p', 6, { entries: 20 }));
      await until(() => r.seen.length === 6, 20_000, 'every call');
      const slots = bySlot(r.seen);
      for (let i = 1; i < slots.length; i++) {
        // The rate in force when the previous call was taken: R/2 plus what it regained since the penalty.
        const elapsed = Math.max(0, slots[i - 1].startAt - penalizedAt) / 1000;
        const allowed = Math.min(rate, rate / 2 + 0.1 * rate * (elapsed + 0.5));
        expect(slots[i].startAt - slots[i - 1].startAt).toBeGreaterThanOrEqual(
          (slots[i - 1].recipients * 1000) / allowed - ROUNDING_MS,
        );
      }
    });
  });
}
