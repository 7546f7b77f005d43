// Unit tests: the system clock's abortable sleep and the fake clock.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/sending/clock.js';
import { fakeClock } from '../../helpers/fake-clock.js';

describe('systemClock', () => {
  it('sleeps about the given time', async () => {
    const clock = systemClock();
    const t0 = clock.now();
    await clock.sleep(30);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('resolves (does not reject) promptly when the signal aborts, or at once if already aborted', async () => {
    const clock = systemClock();
    const ctl = new AbortController();
    const t0 = Date.now();
    const slept = clock.sleep(10_000, ctl.signal);
    setTimeout(() => ctl.abort(), 20);
    await expect(slept).resolves.toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(clock.sleep(10_000, ctl.signal)).resolves.toBeUndefined();
    await expect(clock.sleep(0)).resolves.toBeUndefined();
  });
});

describe('fakeClock', () => {
  it('wakes sleepers in deadline order as time advances', async () => {
    const clock = fakeClock(100);
    const woke: string[] = [];
    void clock.sleep(50).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(10).then(() => woke.push(`a@${clock.now()}`));
    void clock.sleep(50).then(() => woke.push(`c@${clock.now()}`));
    await clock.advance(20);
    expect(woke).toEqual(['a@110']);
    expect(clock.now()).toBe(120);
    await clock.advance(100);
    expect(woke).toEqual(['a@110', 'b@150', 'c@150']);
    expect(clock.now()).toBe(220);
  });

  it('wakes sleepers started by woken ones within the same advance', async () => {
    const clock = fakeClock();
    const woke: number[] = [];
    void (async () => {
      await clock.sleep(10);
      woke.push(clock.now());
      await clock.sleep(10);
      woke.push(clock.now());
    })();
    await clock.advance(25);
    expect(woke).toEqual([10, 20]);
  });

  it('drops a sleeper whose signal aborts, and run() drives a promise to the end', async () => {
    const clock = fakeClock();
    const ctl = new AbortController();
    const slept = clock.sleep(1000, ctl.signal);
    expect(clock.sleepers).toBe(1);
    ctl.abort();
    await slept;
    expect(clock.sleepers).toBe(0);
    const value = await clock.run(
      (async () => {
        await clock.sleep(500);
        await clock.sleep(700);
        return clock.now();
      })(),
    );
    expect(value).toBe(1200);
    await expect(clock.run(new Promise(() => {}))).rejects.toThrow(/deadlock/);
  });
});
