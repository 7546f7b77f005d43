// jobWatcher(): one store read per poll per watched job, whatever the number of watchers; nothing polled when unwatched.
import { afterEach, expect, it } from 'vitest';
import { jobWatcher } from '../../src/http/job-watch.js';
import { silentLogger } from '../../src/logger.js';
import type { JobRecord, Store } from '../../src/types.js';

const job = (sent: number): JobRecord =>
  ({
    id: 'job_1',
    principalId: 'a',
    status: 'sending',
    entries: 10,
    recipients: 10,
    counts: { sent, failed: 0, pending: 10 - sent, canceled: 0, suppressed: 0, unknown: 0 },
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  }) as JobRecord;

let close = () => {};
afterEach(() => close());

it('polls a watched job once per interval for 100 watchers, tells each of a change, and stops when unwatched', async () => {
  let reads = 0;
  let sent = 0;
  const store = {
    getJob: async () => {
      reads++;
      return job(sent);
    },
  } as unknown as Store;
  const watcher = jobWatcher(store, 20, silentLogger);
  close = () => watcher.close();
  const heard = Array.from({ length: 100 }, () => 0);
  const stops = heard.map((_, i) => watcher.watch('job_1', () => heard[i]++));
  expect(watcher.watched).toBe(1);
  while (reads < 3) await new Promise((r) => setTimeout(r, 5));
  expect(reads).toBeLessThan(10); // one read per poll, not one per watcher
  expect(heard.every((n) => n === 1)).toBe(true); // the first read; nothing changed since
  sent = 5;
  while (heard[99] < 2) await new Promise((r) => setTimeout(r, 5));
  expect(heard.every((n) => n === 2)).toBe(true);
  expect(watcher.latest('job_1')?.counts.sent).toBe(5);
  for (const stop of stops) stop();
  expect(watcher.watched).toBe(0);
  const stopped = reads;
  await new Promise((r) => setTimeout(r, 60));
  expect(reads).toBe(stopped);
});

it('stops polling once the job is final, after telling the watchers', async () => {
  let reads = 0;
  const store = {
    getJob: async () => {
      reads++;
      return { ...job(10), status: 'completed', completedAt: '2026-12-01T00:00:01.000Z' };
    },
  } as unknown as Store;
  const watcher = jobWatcher(store, 10, silentLogger);
  close = () => watcher.close();
  let heard = 0;
  watcher.watch('job_1', () => heard++);
  while (heard < 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50)); // several poll intervals: none runs after the final state
  expect(heard).toBe(1);
  expect(reads).toBe(1);
});
