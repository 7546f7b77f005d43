// The Lua take against the pure rules it twins (sending/pacing.ts, sending/fair-share.ts): the same tables, one answer.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargePrincipal, fairShareState, pickPrincipal, shareWeight } from '../../src/sending/fair-share.js';
import { INITIAL_PACING, PACING_TUNING, type PacingState, penalize, takeSlot } from '../../src/sending/pacing.js';
import { decodeItem, encodeItem } from '../../src/queues/redis-queue-items.js';
import { ADD, PENALIZE, SET_QUOTA, SETTLE, TAKE } from '../../src/queues/redis-queue-scripts.js';
import { deleteQueueKeys, sleep, work } from './queue-helpers.js';
import { REDIS_URL, uniquePrefix } from './redis-helpers.js';

type Op =
  | ['add', job: string, principal: string, calls: number, perCall: number, weight?: number]
  | ['take', times: number]
  | ['wait', ms: number]
  | ['rate', rate: number | null]
  | ['penalize']
  | ['quota', remaining: number | null]
  /** The last call taken goes back now with its first `n` entries. */
  | ['again', n: number];

type Decision =
  | { kind: 'call'; principal: string; jobId: string; chunk: number; recipients: number; startAt: number }
  | { kind: 'pace'; retryAt: number }
  | { kind: 'idle' }
  | { kind: 'quota' };

const CASES: [string, Op[]][] = [
  [
    'pacing: slots k/R apart, refused beyond the lookahead, an idle schedule banks nothing',
    [
      ['rate', 100],
      ['add', 'j', 'A', 6, 10],
      ['take', 4],
      ['wait', 150],
      ['take', 2],
      ['wait', 700],
      ['take', 2],
    ],
  ],
  [
    'penalty: halved, counted once within 1 s, recovering 10 %/s',
    [
      ['rate', 200],
      ['add', 'j', 'A', 8, 20],
      ['take', 1],
      ['penalize'],
      ['penalize'],
      ['take', 2],
      ['wait', 1100],
      ['penalize'],
      ['take', 3],
    ],
  ],
  [
    'fair share: weights, a principal that joins late starts at V, jobs of one principal in creation order',
    [
      ['rate', null],
      ['add', 'a1', 'A', 4, 10],
      ['add', 'a2', 'A', 2, 5],
      ['add', 'b1', 'B', 6, 10, 2],
      ['take', 5],
      ['add', 'c1', 'C', 3, 30],
      ['take', 14],
    ],
  ],
  [
    'quota: never more recipients than remain, a task split to fit, nothing while spent',
    [
      ['rate', null],
      ['quota', 25],
      ['add', 'q', 'A', 3, 10],
      ['take', 4],
      ['quota', 12],
      ['take', 3],
      ['quota', null],
      ['take', 2],
    ],
  ],
  [
    'hand-backs go to the front of their job',
    [
      ['rate', null],
      ['add', 'h', 'A', 3, 10],
      ['add', 'g', 'B', 2, 10],
      ['take', 1],
      ['again', 4],
      ['take', 6],
    ],
  ],
];

/** The same decisions made by the pure modules over an in-test model of the queue's contents. */
function model() {
  let pacing: PacingState = { ...INITIAL_PACING };
  const fair = fairShareState();
  const principals = new Map<
    string,
    { weight: number; jobs: { id: string; tasks: { chunk: number; n: number }[] }[] }
  >();
  let quota: number | null = null;
  let last: { jobId: string; chunk: number } | undefined;
  return {
    add(job: string, principal: string, calls: number, perCall: number, weight?: number) {
      const p = principals.get(principal) ?? { weight: 1, jobs: [] };
      if (weight !== undefined) p.weight = shareWeight(weight);
      p.jobs.push({ id: job, tasks: Array.from({ length: calls }, (_, chunk) => ({ chunk, n: perCall })) });
      principals.set(principal, p);
    },
    quota(q: number | null) {
      quota = q;
    },
    penalize(rate: number, now: number) {
      pacing = penalize(rate, pacing, now);
    },
    again(n: number) {
      const { jobId, chunk } = last as { jobId: string; chunk: number };
      for (const p of principals.values()) p.jobs.find((j) => j.id === jobId)?.tasks.unshift({ chunk, n });
    },
    take(rate: number | null, now: number): Decision {
      const ready = new Map<string, number>();
      for (const id of [...principals.keys()].sort()) {
        const p = principals.get(id);
        if (p?.jobs.some((j) => j.tasks.length > 0)) ready.set(id, p.weight);
      }
      const principal = pickPrincipal(fair, ready);
      if (principal === undefined) return { kind: 'idle' };
      const job = principals.get(principal)?.jobs.find((j) => j.tasks.length > 0) as {
        id: string;
        tasks: { chunk: number; n: number }[];
      };
      const head = job.tasks[0];
      const k = quota === null ? head.n : Math.min(head.n, quota);
      if (k === 0) return { kind: 'quota' };
      let startAt = now;
      if (rate !== null) {
        const slot = takeSlot(rate, pacing, now, k);
        if (!slot.ok) return { kind: 'pace', retryAt: slot.retryAt };
        pacing = slot.state;
        startAt = slot.startAt;
      }
      if (k === head.n) job.tasks.shift();
      else head.n -= k;
      if (quota !== null) quota -= k;
      chargePrincipal(fair, principal, k);
      last = { jobId: job.id, chunk: head.chunk };
      return { kind: 'call', principal, jobId: job.id, chunk: head.chunk, recipients: k, startAt };
    },
  };
}

describe.skipIf(!REDIS_URL)('the Lua take twins the pure pacing and fair-share rules', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  type Run = (key: string, ...args: (string | number)[]) => Promise<(string | number)[]>;
  let s: { take: Run; settle: Run; add: Run; penalize: Run; quota: Run };
  beforeAll(() => {
    redis = new Redis(REDIS_URL as string);
    for (const [name, lua] of Object.entries({
      take: TAKE,
      settle: SETTLE,
      add: ADD,
      penalize: PENALIZE,
      quota: SET_QUOTA,
    }))
      redis.defineCommand(name, { lua, numberOfKeys: 1 });
    s = redis as unknown as typeof s;
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteQueueKeys(REDIS_URL as string, p);
    redis.disconnect();
  });

  it.each(CASES)('%s', async (_name, ops) => {
    const prefix = uniquePrefix('twin');
    prefixes.push(prefix);
    const key = `{${prefix}}:state`;
    await redis.set(`{${prefix}}:hb:w`, '1', 'PX', 60_000);
    const m = model();
    let rate: number | null = null;
    let lastTaken: { lease: string; item: string } | undefined;
    const decisions: string[] = [];
    for (const op of ops) {
      if (op[0] === 'rate') rate = op[1];
      else if (op[0] === 'wait') await sleep(op[1]);
      else if (op[0] === 'add') {
        const [, job, principal, calls, perCall, weight] = op;
        const items = work(job, principal, calls, perCall).tasks.map((t) => encodeItem(t.chunk, 0, t.entries));
        await s.add(key, job, principal, weight ?? '', 0, 0, items.length, ...items);
        m.add(job, principal, calls, perCall, weight);
      } else if (op[0] === 'quota') {
        await s.quota(key, op[1] === null ? '' : op[1]);
        m.quota(op[1]);
      } else if (op[0] === 'penalize') {
        const [, now] = await s.penalize(
          key,
          rate as number,
          PACING_TUNING.recoveryPerSecond,
          PACING_TUNING.minFraction,
          PACING_TUNING.penaltyWindowMs,
        );
        m.penalize(rate as number, Number(now));
      } else if (op[0] === 'again') {
        const { lease, item } = lastTaken as { lease: string; item: string };
        const { chunk, entries } = decodeItem(item);
        await s.settle(key, lease, 'again', 0, encodeItem(chunk, 0, entries.slice(0, op[1])));
        m.again(op[1]);
      } else {
        for (let i = 0; i < op[1]; i++) {
          const lease = randomUUID();
          const reply = (await s.take(
            key,
            'w',
            lease,
            rate ?? '',
            PACING_TUNING.lookaheadMs,
            PACING_TUNING.recoveryPerSecond,
          )) as string[];
          const [kind] = reply;
          const now = Number(kind === 'call' ? reply[7] : reply[2]);
          const expected = m.take(rate, now);
          let got: Decision;
          if (kind === 'call') {
            const [, , principal, jobId, startAt, recipients, item] = reply;
            got = {
              kind,
              principal,
              jobId,
              chunk: Number(item.split('\x1f')[0]),
              recipients: Number(recipients),
              startAt: Number(startAt),
            };
            lastTaken = { lease, item };
            if (!ops.some((o) => o[0] === 'again')) await s.settle(key, lease, 'done', 0, '');
          } else if (kind === 'pace') got = { kind, retryAt: Number(reply[1]) };
          else got = { kind: kind as 'idle' | 'quota' };
          if (got.kind === 'call' && expected.kind === 'call') {
            expect(got.startAt).toBeCloseTo(expected.startAt, 1);
            got.startAt = expected.startAt;
          }
          if (got.kind === 'pace' && expected.kind === 'pace') {
            expect(got.retryAt).toBeCloseTo(expected.retryAt, 1);
            got.retryAt = expected.retryAt;
          }
          expect(got).toEqual(expected);
          decisions.push(
            got.kind === 'call' ? `${got.principal}/${got.jobId}#${got.chunk}:${got.recipients}` : got.kind,
          );
        }
      }
    }
    expect(decisions.length).toBeGreaterThan(0);
  });
});
