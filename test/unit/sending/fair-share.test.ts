// Unit tests: fair share between principals — the pure pick (tables) and issue 14's scenario through the queue, fake clock.
import { describe, expect, it } from 'vitest';
import { inProcessQueue } from '../../../src/queues/in-process-queue.js';
import { chargePrincipal, fairShareState, pickPrincipal } from '../../../src/sending/fair-share.js';
import type { ChunkTask, QueuedWork, TakenCall } from '../../../src/types.js';
import { fakeClock } from '../../helpers/fake-clock.js';

/** Serves `rounds` calls of `k` recipients; `ready(round)` gives the principals with work (and weights) at each round. */
function serve(rounds: number, ready: (round: number) => Record<string, number>, k = 50): string[] {
  const state = fairShareState();
  const order: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const id = pickPrincipal(state, new Map(Object.entries(ready(round))));
    if (id === undefined) {
      order.push('-');
      continue;
    }
    chargePrincipal(state, id, k);
    order.push(id);
  }
  return order;
}

const count = (order: string[], id: string) => order.filter((x) => x === id).length;

describe('pickPrincipal / chargePrincipal', () => {
  const table: Array<[string, number, (round: number) => Record<string, number>, string]> = [
    ['a principal alone gets every call', 4, () => ({ a: 1 }), 'aaaa'],
    ['two equal principals alternate', 6, () => ({ a: 1, b: 1 }), 'ababab'],
    ['three equal principals take turns', 6, () => ({ a: 1, b: 1, c: 1 }), 'abcabc'],
    ['weight 2 gets two calls for one', 6, () => ({ a: 2, b: 1 }), 'abaaba'],
    ['nobody ready: nothing picked', 2, () => ({}), '--'],
    // b arrives after a was served alone: b starts at the virtual time, it does not get the past back
    [
      'a newcomer shares from now on, no catch-up burst',
      6,
      (r): Record<string, number> => (r < 3 ? { a: 1 } : { a: 1, b: 1 }),
      'aaabab',
    ],
    // b goes idle: its share goes to a at once; when b returns it has banked nothing
    [
      'an idle principal banks no credit',
      8,
      (r): Record<string, number> => (r >= 2 && r < 5 ? { a: 1 } : { a: 1, b: 1 }),
      'abaaabab',
    ],
  ];
  for (const [name, rounds, ready, expected] of table) {
    it(name, () => {
      expect(serve(rounds, ready).join('')).toBe(expected);
    });
  }

  it('counts recipients, not calls: small calls of one principal balance big calls of another', () => {
    const state = fairShareState();
    const got = { a: 0, b: 0 };
    for (let i = 0; i < 200; i++) {
      const id = pickPrincipal(
        state,
        new Map([
          ['a', 1],
          ['b', 1],
        ]),
      ) as 'a' | 'b';
      const k = id === 'a' ? 50 : 5;
      chargePrincipal(state, id, k);
      got[id] += k;
    }
    expect(Math.abs(got.a - got.b)).toBeLessThanOrEqual(50);
  });

  it('forgets principals that went idle (memory bounded by the active ones)', () => {
    const state = fairShareState();
    for (let i = 0; i < 1000; i++) {
      const id = pickPrincipal(state, new Map([[`p${i}`, 1]]));
      chargePrincipal(state, id as string, 1);
    }
    pickPrincipal(state, new Map());
    pickPrincipal(state, new Map([['x', 1]]));
    expect(state.principals.size).toBeLessThanOrEqual(2);
  });

  it('sanity: a weighted run over many rounds gives shares in proportion to the weights', () => {
    const order = serve(400, () => ({ a: 3, b: 1 }));
    expect(count(order, 'a')).toBe(300);
  });
});

/** `recipients` single-recipient entries of one principal, cut into 50-entry tasks. */
function job(jobId: string, principalId: string, recipients: number): QueuedWork {
  const tasks: ChunkTask[] = [];
  for (let i = 0; i < recipients; i += 50) {
    const entries = Array.from({ length: Math.min(50, recipients - i) }, (_, k) => ({
      index: i + k,
      entry: { Destination: { ToAddresses: [`${principalId}${i + k}@example.com`] } },
    }));
    tasks.push({ jobId, chunk: tasks.length, entries });
  }
  return { jobId, principalId, tasks };
}

describe('issue 14: A posts 20,000 recipients, B 300 a second later, C 300 two seconds later, R = 200/s', () => {
  it('B and C finish within 1.2 × (recipients ÷ R/3) plus one call; A gets the whole rate before and after', async () => {
    const R = 200;
    const clock = fakeClock(1_000_000);
    const t0 = clock.now();
    const queue = inProcessQueue({ clock });
    const calls: Array<{ principal: string; at: number; recipients: number }> = [];
    queue.setRate(R);
    await queue.start(
      async (call: TakenCall) => {
        // An instant SES: the call happens at its pacing slot.
        calls.push({ principal: call.principalId, at: call.startAt - t0, recipients: call.recipients });
        return { kind: 'done' };
      },
      { concurrency: 8 },
    );
    await queue.add(job('job-a', 'A', 20_000));
    const end = 15_000;
    for (let t = 0; t < end; t += 10) {
      if (t === 1000) await queue.add(job('job-b', 'B', 300));
      if (t === 2000) await queue.add(job('job-c', 'C', 300));
      await clock.advance(10);
    }
    await queue.close();

    const of = (p: string) => calls.filter((c) => c.principal === p);
    const sum = (list: typeof calls) => list.reduce((n, c) => n + c.recipients, 0);
    const oneCall = (50 / R) * 1000;
    const bound = 1.2 * (300 / (R / 3)) * 1000 + oneCall;
    const bDone = (of('B').at(-1)?.at ?? Number.POSITIVE_INFINITY) + oneCall;
    const cDone = (of('C').at(-1)?.at ?? Number.POSITIVE_INFINITY) + oneCall;
    expect(sum(of('B'))).toBe(300);
    expect(sum(of('C'))).toBe(300);
    expect(bDone - 1000).toBeLessThanOrEqual(bound);
    expect(cDone - 2000).toBeLessThanOrEqual(bound);

    // A alone before B arrives, and again after C is done: the whole rate.
    const aBefore = sum(of('A').filter((c) => c.at < 1000));
    expect(aBefore).toBeGreaterThanOrEqual(0.97 * R * 1 - 50);
    const after = Math.ceil(cDone / 1000) * 1000;
    const aAfter = sum(of('A').filter((c) => c.at >= after && c.at < end));
    expect(aAfter / ((end - after) / 1000)).toBeGreaterThanOrEqual(0.97 * R);
    // No capacity left idle: the total over the run.
    const total = sum(calls.filter((c) => c.at < end - oneCall));
    expect(total / ((end - oneCall) / 1000)).toBeGreaterThanOrEqual(0.97 * R);
    expect(total / ((end - oneCall) / 1000)).toBeLessThanOrEqual(R + 50);
    console.info(
      `[fair-share] B done ${((bDone - 1000) / 1000).toFixed(2)} s after posting, C ${((cDone - 2000) / 1000).toFixed(2)} s (bound ${(bound / 1000).toFixed(2)} s); total ${(total / ((end - oneCall) / 1000)).toFixed(1)}/s`,
    );
  });
});
