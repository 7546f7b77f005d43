// fakeClock(): a Clock whose time only moves when a test says so; advance() wakes sleepers in deadline order.
import type { Clock } from '../../src/types.js';

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, waking every sleeper due on the way, in order, letting each one's work run. */
  advance(ms: number): Promise<void>;
  /** Jumps to the earliest sleeper's deadline and wakes it. False when nobody sleeps. */
  next(): Promise<boolean>;
  /** Lets `promise` run, jumping time from sleeper to sleeper whenever nothing else can move, until it settles. */
  run<T>(promise: Promise<T>, maxSteps?: number): Promise<T>;
  /** Sleepers not woken yet. */
  readonly sleepers: number;
  /** Durations passed to sleep(), in call order (handy to assert waits and backoffs). */
  readonly slept: number[];
}

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/** Drains promise chains (several macrotask turns, so async functions several awaits deep get to run). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function fakeClock(start = 0): FakeClock {
  let now = start;
  let seq = 0;
  let sleepers: Sleeper[] = [];
  const slept: number[] = [];

  const earliest = () =>
    sleepers.reduce<Sleeper | undefined>(
      (a, s) => (!a || s.at < a.at || (s.at === a.at && s.seq < a.seq) ? s : a),
      undefined,
    );

  function wake(s: Sleeper): void {
    sleepers = sleepers.filter((x) => x !== s);
    now = Math.max(now, s.at);
    s.wake();
  }

  const clock: FakeClock = {
    now: () => now,
    sleep(ms, signal) {
      slept.push(ms);
      return new Promise<void>((resolve) => {
        if (signal?.aborted || !(ms > 0)) {
          resolve();
          return;
        }
        const sleeper: Sleeper = {
          at: now + ms,
          seq: seq++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          sleepers = sleepers.filter((x) => x !== sleeper);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sleepers.push(sleeper);
      });
    },
    async advance(ms) {
      const target = now + ms;
      await flush();
      for (let s = earliest(); s && s.at <= target; s = earliest()) {
        wake(s);
        await flush();
      }
      now = target;
      await flush();
    },
    async next() {
      await flush();
      const s = earliest();
      if (!s) return false;
      wake(s);
      await flush();
      return true;
    },
    async run(promise, maxSteps = 100_000) {
      let done = false;
      const watched = promise.finally(() => {
        done = true;
      });
      watched.catch(() => undefined);
      for (let step = 0; step < maxSteps; step++) {
        await flush();
        if (done) return watched;
        if (!(await clock.next())) {
          await flush(20);
          if (done) return watched;
          throw new Error('fakeClock.run: the promise is pending but nothing sleeps (deadlock?)');
        }
      }
      throw new Error(`fakeClock.run: still pending after ${maxSteps} steps`);
    },
    get sleepers() {
      return sleepers.length;
    },
    get slept() {
      return slept;
    },
  };
  return clock;
}
