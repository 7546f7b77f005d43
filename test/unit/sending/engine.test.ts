// The sending engine assembled (send rate → in-process queue → guarded dispatcher → memory store) against a mocked SES.
import {
  GetAccountCommand,
  SendBulkEmailCommand,
  type SendBulkEmailCommandInput,
  SESv2Client,
  SESv2ServiceException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSenderOptions } from '../../../src/options.js';
import { inProcessQueue } from '../../../src/queues/in-process-queue.js';
import { guardCalls } from '../../../src/sending/call-guard.js';
import { cutTasks } from '../../../src/sending/chunk.js';
import { memoryStore } from '../../../src/stores/memory-store.js';
import type { BulkEmailEvent, CallConsumer, JobRecord, Queue, Store } from '../../../src/types.js';
import { type Sender, startSender } from '../../../src/worker.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function until<T>(check: () => T | Promise<T>, ms = 10_000, what = 'the condition'): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

interface Account {
  rate: number;
  max: number;
  /** Recipients SES accepted so far count against the 24-hour quota, as SES counts them. */
  sentBefore: number;
}

function mockSes(account: Account | null, fail?: (n: number) => Error | undefined) {
  const client = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const calls: SendBulkEmailCommandInput[] = [];
  let accepted = 0;
  mock.on(SendBulkEmailCommand).callsFake(async (input: SendBulkEmailCommandInput) => {
    calls.push(input);
    const err = fail?.(calls.length);
    if (err) throw err;
    const entries = input.BulkEmailEntries ?? [];
    accepted += entries.length;
    return {
      BulkEmailEntryResults: entries.map((_, i) => ({ Status: 'SUCCESS', MessageId: `m${calls.length}-${i}` })),
    };
  });
  mock.on(GetAccountCommand).callsFake(async () => {
    if (!account)
      throw new SESv2ServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      });
    return {
      SendQuota: {
        MaxSendRate: account.rate,
        Max24HourSend: account.max,
        SentLast24Hours: account.sentBefore + accepted,
      },
    };
  });
  open.push(async () => {
    mock.restore();
  });
  return { client, calls, accepted: () => accepted };
}

async function engine(options: { ses: SESv2Client; sendRate?: number | 'account'; store?: Store; queue?: Queue }) {
  const store = options.store ?? memoryStore();
  const queue = options.queue ?? inProcessQueue();
  const events: BulkEmailEvent[] = [];
  const config = resolveSenderOptions({
    ses: options.ses,
    store,
    queue,
    sendRate: options.sendRate ?? 1000,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onEvent: (e) => events.push(e),
  });
  const sender: Sender = startSender(config);
  open.push(async () => {
    await queue.close();
    await sender.close();
  });
  await sender.ready;
  let jobs = 0;
  async function post(recipients: number, principalId = 'p'): Promise<string> {
    const id = `job-${++jobs}`;
    const at = new Date().toISOString();
    const job: JobRecord = {
      id,
      principalId,
      status: 'queued',
      createdAt: at,
      updatedAt: at,
      entries: recipients,
      recipients,
      counts: { sent: 0, failed: 0, pending: recipients, canceled: 0, suppressed: 0, unknown: 0 },
    };
    await store.createJob(
      job,
      { content: { FromEmailAddress: 'sender@example.com', DefaultContent: { Template: { TemplateName: 't' } } } },
      [],
    );
    const entries = Array.from({ length: recipients }, (_, index) => ({
      index,
      entry: { Destination: { ToAddresses: [`${id}-${index}@example.com`] } },
    }));
    await queue.add({ jobId: id, principalId, tasks: cutTasks(id, entries) });
    return id;
  }
  const finished = (id: string) =>
    until(
      async () => {
        const job = await store.getJob(id);
        return job?.completedAt ? job : undefined;
      },
      15_000,
      `job ${id} to finish`,
    );
  return { store, queue, events, sender, post, finished };
}

describe('engine: issue 11 trap 2 — bad credentials fail the job with one call', () => {
  it('20 entries (and 120 in three calls) → one SES call, status failed, error SES_CREDENTIALS, every entry FAILED', async () => {
    const ses = mockSes(
      null,
      () =>
        new SESv2ServiceException({
          name: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        }),
    );
    const e = await engine({ ses: ses.client });
    for (const n of [20, 120]) {
      const before = ses.calls.length;
      const job = await e.finished(await e.post(n));
      expect(ses.calls.length - before).toBeLessThanOrEqual(n === 20 ? 1 : 3);
      expect(job).toMatchObject({
        status: 'failed',
        error: { code: 'SES_CREDENTIALS' },
        counts: { failed: n, pending: 0, sent: 0 },
      });
    }
    expect(e.events.filter((x) => x.type === 'job.failed')).toHaveLength(2);
  });
});

describe('engine: quota defer holds the overflow itself', () => {
  it('GetAccount says 10 left; a 20-recipient job → 10 sent, 10 PENDING; sent once the quota frees', async () => {
    const account: Account = { rate: 1000, max: 100, sentBefore: 90 };
    const ses = mockSes(account);
    const e = await engine({ ses: ses.client, sendRate: 'account' });
    const id = await e.post(20);
    await until(() => ses.accepted() === 10, 5000, '10 sent');
    await sleep(300);
    expect(ses.accepted()).toBe(10);
    const held = await e.store.getJob(id);
    expect(held).toMatchObject({ status: 'sending', counts: { sent: 10, pending: 10 } });
    const results = await e.store.getResults(id, -1, 20);
    expect(results.filter((r) => r.status === 'PENDING')).toHaveLength(10);
    // The rolling 24 hours free up: the next read of GetAccount lets the rest go.
    account.max = 1000;
    await e.sender.sendRate.refresh();
    const done = await e.finished(id);
    expect(done).toMatchObject({ status: 'completed', counts: { sent: 20, pending: 0 } });
    expect(ses.accepted()).toBe(20);
    expect(ses.calls.reduce((n, c) => n + (c.BulkEmailEntries?.length ?? 0), 0)).toBe(20);
  });
});

describe('engine: pause and resume', () => {
  it('nothing of a paused job is sent; resume continues exactly where it stopped', async () => {
    const ses = mockSes({ rate: 200, max: -1, sentBefore: 0 });
    const e = await engine({ ses: ses.client, sendRate: 200 });
    const id = await e.post(400);
    await until(() => ses.accepted() >= 100, 5000, '100 sent');
    await e.store.setPaused(id, true);
    await e.queue.pause(id);
    await sleep(300); // calls in flight finish
    const atPause = ses.accepted();
    await sleep(500);
    expect(ses.accepted()).toBe(atPause);
    expect((await e.store.getJob(id))?.status).toBe('paused');
    await e.store.setPaused(id, false);
    await e.queue.resume(id);
    const done = await e.finished(id);
    expect(done).toMatchObject({ status: 'completed', counts: { sent: 400 } });
    const sentTo = ses.calls.flatMap((c) => (c.BulkEmailEntries ?? []).map((x) => x.Destination?.ToAddresses?.[0]));
    expect(sentTo).toHaveLength(400);
    expect(new Set(sentTo).size).toBe(400);
  });

  it('a pause made in the store only (another process) stops the sending too: the claim tells the queue', async () => {
    const ses = mockSes({ rate: 200, max: -1, sentBefore: 0 });
    const e = await engine({ ses: ses.client, sendRate: 200 });
    const id = await e.post(400);
    await until(() => ses.accepted() >= 50, 5000, '50 sent');
    await e.store.setPaused(id, true);
    await sleep(400);
    const atPause = ses.accepted();
    await sleep(400);
    expect(ses.accepted()).toBe(atPause);
    expect(atPause).toBeLessThan(400);
    await e.store.setPaused(id, false);
    await e.queue.resume(id);
    expect(await e.finished(id)).toMatchObject({ status: 'completed', counts: { sent: 400 } });
    expect(ses.accepted()).toBe(400);
  });

  it('a scheduled job waits for its time', async () => {
    const ses = mockSes({ rate: 1000, max: -1, sentBefore: 0 });
    const e = await engine({ ses: ses.client });
    const at = new Date().toISOString();
    const job: JobRecord = {
      id: 'scheduled-1',
      principalId: 'p',
      status: 'scheduled',
      sendAt: new Date(Date.now() + 400).toISOString(),
      createdAt: at,
      updatedAt: at,
      entries: 2,
      recipients: 2,
      counts: { sent: 0, failed: 0, pending: 2, canceled: 0, suppressed: 0, unknown: 0 },
    };
    await e.store.createJob(job, { content: { FromEmailAddress: 'a@example.com', DefaultContent: {} } }, []);
    const entries = [0, 1].map((index) => ({
      index,
      entry: { Destination: { ToAddresses: [`s${index}@example.com`] } },
    }));
    const posted = Date.now();
    await e.queue.add({ jobId: job.id, principalId: 'p', notBefore: posted + 400, tasks: cutTasks(job.id, entries) });
    await sleep(200);
    expect(ses.calls).toHaveLength(0);
    expect((await e.store.getJob(job.id))?.status).toBe('scheduled');
    const done = await e.finished(job.id);
    expect(Date.parse(done.completedAt as string) - posted).toBeGreaterThanOrEqual(380);
    expect(done.counts.sent).toBe(2);
  });
});

describe('guardCalls: every job finishes (issue 11 trap 7)', () => {
  it('a call whose dispatcher keeps throwing ends FAILED QUEUE_ATTEMPTS_EXHAUSTED, and the job is final', async () => {
    const store = memoryStore();
    const queue = inProcessQueue();
    const events: BulkEmailEvent[] = [];
    let throws = 0;
    const buggy: CallConsumer = async () => {
      throws++;
      throw new TypeError("Cannot read properties of undefined (reading 'claimed')");
    };
    const consumer = guardCalls(buggy, {
      store,
      clock: { now: () => Date.now(), sleep: (ms) => sleep(ms) },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      emit: (e) => events.push(e),
      attempts: 3,
      retryDelayMs: 10,
    });
    open.push(() => queue.close());
    const at = new Date().toISOString();
    await store.createJob(
      {
        id: 'j',
        principalId: 'p',
        status: 'queued',
        createdAt: at,
        updatedAt: at,
        entries: 60,
        recipients: 60,
        counts: { sent: 0, failed: 0, pending: 60, canceled: 0, suppressed: 0, unknown: 0 },
      },
      { content: { DefaultContent: {} } },
      [],
    );
    const entries = Array.from({ length: 60 }, (_, index) => ({
      index,
      entry: { Destination: { ToAddresses: ['a@b.c'] } },
    }));
    queue.setRate(100_000);
    await queue.start(consumer, { concurrency: 2 });
    await queue.add({ jobId: 'j', principalId: 'p', tasks: cutTasks('j', entries) });
    const job = await until(async () => {
      const j = await store.getJob('j');
      return j?.completedAt ? j : undefined;
    }, 5000);
    expect(job).toMatchObject({ status: 'completed', counts: { failed: 60, pending: 0 } });
    expect(throws).toBe(6); // 3 per call, two calls
    const results = await store.getResults('j', -1, 60);
    expect(results.every((r) => r.status === 'FAILED' && r.error?.code === 'QUEUE_ATTEMPTS_EXHAUSTED')).toBe(true);
    expect(events.filter((e) => e.type === 'job.completed')).toHaveLength(1);
  });
});
