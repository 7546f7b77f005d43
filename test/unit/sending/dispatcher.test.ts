// Unit tests: the dispatcher against a fake SES, the memory store and a fake clock — the DESIGN sending model.
import { describe, expect, it, vi } from 'vitest';
import { chunkTasks } from '../../../src/sending/chunk.js';
import { createDispatcher, type DispatcherOptions } from '../../../src/sending/dispatcher.js';
import { memoryRateLimiter } from '../../../src/sending/rate-limiter.js';
import { memoryStore } from '../../../src/stores/memory-store.js';
import type {
  BulkEmailEntry,
  BulkEmailEvent,
  ChunkTask,
  JobContent,
  JobRecord,
  Logger,
  Store,
} from '../../../src/types.js';
import { fakeClock } from '../../helpers/fake-clock.js';
import {
  type FakeCall,
  fakeSes,
  hang,
  nodeError,
  type Script,
  sequence,
  sesError,
  statusBy,
  success,
} from '../../helpers/fake-ses.js';

const JOB = 'job-1';
const addr = (i: number) => `r${i}@example.com`;
const entryFor = (i: number): BulkEmailEntry => ({ Destination: { ToAddresses: [addr(i)] } });
const CONTENT: JobContent = {
  FromEmailAddress: 'sender@example.com',
  DefaultContent: {
    Template: {
      TemplateContent: { Subject: 'Secret subject {{x}}', Text: 'Secret body {{x}}' },
      TemplateData: '{"x":"1"}',
    },
  },
};

interface SetupOptions extends Partial<DispatcherOptions> {
  script?: Script;
  entries?: number;
  rate?: number;
  content?: JobContent;
}

async function setup(options: SetupOptions = {}) {
  const { script = success, entries = 3, rate = 1000, content = CONTENT, ...rest } = options;
  const clock = (rest.clock as ReturnType<typeof fakeClock> | undefined) ?? fakeClock(1_000_000);
  const store = rest.store ?? memoryStore({ clock });
  const ses = fakeSes(script);
  const enqueued: Array<{ tasks: ChunkTask[]; delayMs?: number }> = [];
  const queue = {
    enqueue: vi.fn(async (tasks: ChunkTask[], opts?: { delayMs?: number }) => {
      enqueued.push({ tasks, delayMs: opts?.delayMs });
    }),
  };
  const limiter = memoryRateLimiter({ rate, clock });
  const events: BulkEmailEvent[] = [];
  const logs: Array<[string, object, string | undefined]> = [];
  const logger: Logger = {
    debug: (o, m) => logs.push(['debug', o, m]),
    info: (o, m) => logs.push(['info', o, m]),
    warn: (o, m) => logs.push(['warn', o, m]),
    error: (o, m) => logs.push(['error', o, m]),
  };
  const dispatcher = createDispatcher({
    ses: ses.client,
    store,
    queue,
    limiter,
    clock,
    logger,
    onEvent: (e) => events.push(e),
    random: () => 0.5,
    ...rest,
  });
  const list = Array.from({ length: entries }, (_, i) => entryFor(i));
  const now = new Date(clock.now()).toISOString();
  const job: JobRecord = {
    id: JOB,
    principalId: 'p1',
    status: 'queued',
    createdAt: now,
    updatedAt: now,
    entries,
    recipients: entries,
    counts: { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 },
  };
  await store.createJob(job, { content }, []);
  const tasks = chunkTasks(JOB, list);
  const results = async () => store.getResults(JOB, -1, 1000);
  const statuses = async () => (await results()).map((r) => r.status);
  const process = (task: ChunkTask = tasks[0], signal: AbortSignal = new AbortController().signal) =>
    clock.run(dispatcher.processChunk(task, signal));
  return { clock, store, ses, queue, enqueued, limiter, events, logs, dispatcher, tasks, results, statuses, process };
}

const types = (events: BulkEmailEvent[]) => events.map((e) => e.type);
const sentTo = (calls: FakeCall[]) => calls.map((c) => c.to);

describe('dispatcher: success and per-entry retries', () => {
  it('all SUCCESS: one call, results recorded, job.completed', async () => {
    const t = await setup();
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(0), addr(1), addr(2)]]);
    expect(await t.results()).toEqual([
      { index: 0, status: 'SUCCESS', messageId: 'm-0-0', attempts: 1 },
      { index: 1, status: 'SUCCESS', messageId: 'm-0-1', attempts: 1 },
      { index: 2, status: 'SUCCESS', messageId: 'm-0-2', attempts: 1 },
    ]);
    expect(types(t.events)).toEqual(['chunk.sent', 'job.completed']);
    expect(t.events[0]).toMatchObject({
      jobId: JOB,
      chunk: 0,
      attempt: 1,
      entries: 3,
      recipients: 3,
      succeeded: 3,
      failed: 0,
      retrying: 0,
      awsRequestId: 'req-0',
    });
    expect(t.events[1]).toMatchObject({ status: 'completed', counts: { sent: 3, pending: 0 } });
    expect((await t.store.getJob(JOB))?.status).toBe('completed');
  });

  it('TRANSIENT_FAILURE: only those entries are sent again, after backoff', async () => {
    const failing = new Set([addr(1), addr(3)]);
    const t = await setup({
      entries: 5,
      script: statusBy((to, call) => (call.n === 0 && failing.has(to) ? 'TRANSIENT_FAILURE' : 'SUCCESS')),
    });
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([
      [addr(0), addr(1), addr(2), addr(3), addr(4)],
      [addr(1), addr(3)],
    ]);
    const r = await t.results();
    expect(r.map((x) => x.status)).toEqual(Array(5).fill('SUCCESS'));
    expect(r.map((x) => x.attempts)).toEqual([1, 2, 1, 2, 1]);
    expect(r[1].error).toBeUndefined();
    const retry = t.events.find((e) => e.type === 'chunk.retry');
    expect(retry).toMatchObject({ attempt: 1, entries: 2, delayMs: 100, reason: 'TRANSIENT_FAILURE' }); // 0.5 × 200 ms
    expect(t.clock.slept).toContain(100);
  });

  it('never resends a SUCCESS, whatever mix of retryable statuses comes back', async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const mix = ['SUCCESS', 'SUCCESS', 'TRANSIENT_FAILURE', 'ACCOUNT_THROTTLED', 'FAILED'];
    const succeeded = new Set<string>();
    const t = await setup({
      entries: 40,
      retry: { attempts: 20 },
      script: statusBy((to) => {
        expect(succeeded.has(to)).toBe(false); // sent again after SES said SUCCESS
        const status = mix[Math.floor(random() * mix.length)];
        if (status === 'SUCCESS') succeeded.add(to);
        return status;
      }),
    });
    await t.process();
    expect(t.ses.calls.length).toBeGreaterThan(3);
    const times = new Map<string, number>();
    for (const call of t.ses.calls) for (const to of call.to) times.set(to, (times.get(to) ?? 0) + 1);
    for (const x of await t.results()) {
      expect(x.status).toBe('SUCCESS');
      expect(times.get(addr(x.index))).toBe(x.attempts);
    }
  });

  it('out of attempts: the last status is final', async () => {
    const t = await setup({
      entries: 2,
      retry: { attempts: 3 },
      script: statusBy((to) => (to === addr(0) ? 'TRANSIENT_FAILURE' : 'SUCCESS')),
    });
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(0), addr(1)], [addr(0)], [addr(0)]]);
    expect(await t.results()).toEqual([
      { index: 0, status: 'TRANSIENT_FAILURE', error: `TRANSIENT_FAILURE for ${addr(0)}`, attempts: 3 },
      { index: 1, status: 'SUCCESS', messageId: 'm-0-1', attempts: 1 },
    ]);
    expect(types(t.events).at(-1)).toBe('job.completed');
  });

  it('final statuses (MESSAGE_REJECTED, INVALID_PARAMETER, unknown future ones) are not retried; a missing result is UNKNOWN', async () => {
    const t = await setup({
      entries: 4,
      script: (call) => ({
        results: [
          { Status: 'MESSAGE_REJECTED', Error: 'virus' },
          { Status: 'INVALID_PARAMETER', Error: 'bad' },
          { Status: 'BRAND_NEW_STATUS' as never, Error: 'new' },
        ],
        requestId: `req-${call.n}`,
      }),
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    const r = await t.results();
    expect(r.map((x) => x.status)).toEqual(['MESSAGE_REJECTED', 'INVALID_PARAMETER', 'FAILED', 'UNKNOWN']);
    expect(r[3].error).toMatch(/no result/);
    expect(t.logs.some(([level, , m]) => level === 'warn' && /different number of results/.test(m ?? ''))).toBe(true);
  });
});

describe('dispatcher: whole-call outcomes', () => {
  it('TooManyRequestsException: penalizes the limiter, backs off, resends the call', async () => {
    const t = await setup({
      script: sequence(
        () => Promise.reject(sesError('TooManyRequestsException', 429, 'Maximum sending rate exceeded.')),
        success,
      ),
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(2);
    expect(t.ses.calls[1].to).toEqual(t.ses.calls[0].to);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect((await t.results()).map((r) => r.attempts)).toEqual([2, 2, 2]);
    expect(t.limiter.effectiveRate()).toBeLessThan(1000);
    expect(t.events.find((e) => e.type === 'chunk.retry')).toMatchObject({
      reason: 'TooManyRequestsException',
      entries: 3,
    });
  });

  it('5xx: retried without penalty', async () => {
    const t = await setup({ script: sequence(() => Promise.reject(sesError('ServiceUnavailable', 503)), success) });
    await t.process();
    expect(t.ses.calls).toHaveLength(2);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(t.limiter.effectiveRate()).toBe(1000);
  });

  it('a network error before the request left (ECONNREFUSED) is retried', async () => {
    const t = await setup({ script: sequence(() => Promise.reject(nodeError('ECONNREFUSED')), success) });
    await t.process();
    expect(t.ses.calls).toHaveLength(2);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('throttled every time: ends ACCOUNT_THROTTLED after the allowed attempts', async () => {
    const t = await setup({
      entries: 1,
      retry: { attempts: 4 },
      script: () => Promise.reject(sesError('TooManyRequestsException', 429)),
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(4);
    expect(await t.results()).toEqual([
      {
        index: 0,
        status: 'ACCOUNT_THROTTLED',
        error: 'TooManyRequestsException: TooManyRequestsException',
        attempts: 4,
      },
    ]);
  });

  it('unknown outcome (reset after the request left): entries UNKNOWN, not resent', async () => {
    const t = await setup({ script: () => Promise.reject(nodeError('ECONNRESET', 'socket hang up')) });
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    const r = await t.results();
    expect(r.map((x) => x.status)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    expect(r[0]).toMatchObject({ attempts: 1, error: 'ECONNRESET: socket hang up' });
    expect((await t.store.getJob(JOB))?.counts).toMatchObject({ unknown: 3, failed: 3, pending: 0 });
  });

  it('unknown outcome (our call timeout): UNKNOWN, not resent', async () => {
    const t = await setup({ script: hang, callTimeoutMs: 5000 });
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    const r = await t.results();
    expect(r.map((x) => x.status)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    expect(r[0].error).toMatch(/^TimeoutError: /);
    expect(t.clock.slept).toContain(5000);
  });

  it('atLeastOnce: an unknown outcome is resent', async () => {
    const t = await setup({
      atLeastOnce: true,
      script: sequence(() => Promise.reject(nodeError('ECONNRESET')), success),
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(2);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('a final 4xx (BadRequestException) fails the call’s entries only', async () => {
    const t = await setup({
      script: () => Promise.reject(sesError('BadRequestException', 400, 'Invalid template data')),
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    expect(await t.statuses()).toEqual(['INVALID_PARAMETER', 'INVALID_PARAMETER', 'INVALID_PARAMETER']);
  });
});

describe('dispatcher: job-fatal outcomes', () => {
  it('a fatal entry status fails every other waiting entry of the job at once, unsent', async () => {
    const t = await setup({
      entries: 120,
      script: statusBy((to) => (to === addr(0) ? 'MAIL_FROM_DOMAIN_NOT_VERIFIED' : 'SUCCESS')),
    });
    await t.process(t.tasks[0]);
    const r = await t.results();
    expect(r[0]).toMatchObject({ status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED', attempts: 1 });
    expect(r.slice(1, 50).every((x) => x.status === 'SUCCESS')).toBe(true);
    expect(r.slice(50).every((x) => x.status === 'MAIL_FROM_DOMAIN_NOT_VERIFIED' && x.attempts === 0)).toBe(true);
    expect(r[60].error).toMatch(/^MAIL_FROM_DOMAIN_NOT_VERIFIED: /);
    expect(types(t.events)).toContain('job.completed');
    // The job's other chunks then send nothing.
    await t.process(t.tasks[1]);
    await t.process(t.tasks[2]);
    expect(t.ses.calls).toHaveLength(1);
  });

  it('the doc spelling TEMPLATE_DOES_NOT_EXIST is recorded as TEMPLATE_NOT_FOUND and is fatal too', async () => {
    const t = await setup({ entries: 5, rate: 20, concurrency: 1, script: statusBy(() => 'TEMPLATE_DOES_NOT_EXIST') });
    await t.process();
    expect(t.ses.calls).toHaveLength(1); // maxBurst 1: the other four calls are never made
    expect(await t.statuses()).toEqual(Array(5).fill('TEMPLATE_NOT_FOUND'));
  });

  it('a fatal exception (AccountSuspendedException) fails the rest of the job', async () => {
    const t = await setup({
      entries: 60,
      script: () => Promise.reject(sesError('AccountSuspendedException', 400, 'Account suspended')),
    });
    await t.process(t.tasks[0]);
    expect(t.ses.calls).toHaveLength(1);
    const r = await t.results();
    expect(r.every((x) => x.status === 'ACCOUNT_SUSPENDED')).toBe(true);
    expect(r[55].error).toBe('AccountSuspendedException: Account suspended');
    expect((await t.store.getJob(JOB))?.status).toBe('completed');
  });

  it('entries put back for a retry while another call failed the job are swept too', async () => {
    // Two calls in flight together: the first answers TRANSIENT_FAILURE late, the second answers fatal early.
    const t = await setup({
      entries: 2,
      rate: 20,
      concurrency: 2,
      script: async (call) => {
        if (call.to[0] === addr(0)) {
          await t.clock.sleep(500);
          return statusBy(() => 'TRANSIENT_FAILURE')(call);
        }
        return statusBy(() => 'ACCOUNT_SUSPENDED')(call);
      },
    });
    await t.process();
    expect(t.ses.calls).toHaveLength(2);
    expect(await t.statuses()).toEqual(['ACCOUNT_SUSPENDED', 'ACCOUNT_SUSPENDED']);
    expect((await t.store.getJob(JOB))?.counts.pending).toBe(0);
  });
});

describe('dispatcher: pause', () => {
  it('ACCOUNT_SENDING_PAUSED: entries back to PENDING, the chunk re-enqueued after 60 s', async () => {
    const t = await setup({ script: statusBy(() => 'ACCOUNT_SENDING_PAUSED') });
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    expect(await t.statuses()).toEqual(['PENDING', 'PENDING', 'PENDING']);
    expect((await t.results()).map((r) => r.attempts)).toEqual([0, 0, 0]);
    expect(t.enqueued).toEqual([
      {
        tasks: [{ jobId: JOB, chunk: 0, entries: t.tasks[0].entries.map((e) => ({ ...e, attempts: 0 })) }],
        delayMs: 60_000,
      },
    ]);
    expect(t.events.at(-1)).toMatchObject({ type: 'chunk.retry', delayMs: 60_000, reason: 'ACCOUNT_SENDING_PAUSED' });
  });

  it('ACCOUNT_DAILY_QUOTA_EXCEEDED waits 15 min; the delays are options', async () => {
    const t = await setup({ script: statusBy(() => 'ACCOUNT_DAILY_QUOTA_EXCEEDED') });
    await t.process();
    expect(t.enqueued[0].delayMs).toBe(15 * 60_000);
    const u = await setup({ pausedDelayMs: 5000, script: statusBy(() => 'CONFIGURATION_SET_SENDING_PAUSED') });
    await u.process();
    expect(u.enqueued[0].delayMs).toBe(5000);
  });

  it('SendingPausedException pauses; later calls of the chunk are held unsent; successes stay', async () => {
    const t = await setup({
      entries: 4,
      rate: 20,
      concurrency: 1,
      script: sequence(success, () =>
        Promise.reject(sesError('SendingPausedException', 400, 'Sending paused for this account')),
      ),
    });
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(0)], [addr(1)]]);
    expect(await t.statuses()).toEqual(['SUCCESS', 'PENDING', 'PENDING', 'PENDING']);
    expect(t.enqueued).toHaveLength(1);
    expect(t.enqueued[0].tasks[0].entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(t.enqueued[0].delayMs).toBe(60_000);
  });
});

describe('dispatcher: cancel and abort', () => {
  it('cancel between calls: the remaining entries are not sent', async () => {
    const t = await setup({
      entries: 5,
      rate: 20,
      concurrency: 1,
      script: async (call) => {
        await t.store.finishPending(JOB, { status: 'CANCELED', cancel: true });
        return success(call);
      },
    });
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(0)]]);
    expect(await t.statuses()).toEqual(['SUCCESS', 'CANCELED', 'CANCELED', 'CANCELED', 'CANCELED']);
    expect(t.enqueued).toEqual([]);
    expect(types(t.events)).toEqual(['chunk.sent', 'job.canceled']);
  });

  it('abort: the call in flight finishes and is recorded; the rest is re-enqueued at once', async () => {
    const ctl = new AbortController();
    const t = await setup({
      entries: 5,
      rate: 20,
      concurrency: 1,
      script: (call) => {
        if (call.n === 1) ctl.abort();
        return success(call);
      },
    });
    await t.process(t.tasks[0], ctl.signal);
    expect(sentTo(t.ses.calls)).toEqual([[addr(0)], [addr(1)]]);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'PENDING', 'PENDING', 'PENDING']);
    expect(t.enqueued).toHaveLength(1);
    expect(t.enqueued[0].delayMs).toBeUndefined();
    expect(t.enqueued[0].tasks[0]).toMatchObject({ jobId: JOB, chunk: 0 });
    expect(t.enqueued[0].tasks[0].entries.map((e) => [e.index, e.attempts])).toEqual([
      [2, 0],
      [3, 0],
      [4, 0],
    ]);
  });

  it('abort during a retry backoff hands the retrying entries back with their attempts', async () => {
    const ctl = new AbortController();
    const t = await setup({
      entries: 2,
      script: (call) => {
        ctl.abort();
        return statusBy((to) => (to === addr(1) ? 'TRANSIENT_FAILURE' : 'SUCCESS'))(call);
      },
    });
    await t.process(t.tasks[0], ctl.signal);
    expect(t.ses.calls).toHaveLength(1);
    expect(await t.statuses()).toEqual(['SUCCESS', 'PENDING']);
    expect(t.enqueued[0].tasks[0].entries).toEqual([{ index: 1, entry: entryFor(1), attempts: 1 }]);
  });

  it('a handed-back task carries attempts on, so the retry budget is kept', async () => {
    const t = await setup({ entries: 1, retry: { attempts: 3 }, script: statusBy(() => 'TRANSIENT_FAILURE') });
    await t.process({ jobId: JOB, chunk: 0, entries: [{ index: 0, entry: entryFor(0), attempts: 2 }] });
    expect(t.ses.calls).toHaveLength(1);
    expect(await t.results()).toMatchObject([{ status: 'TRANSIENT_FAILURE', attempts: 3 }]);
  });
});

describe('dispatcher: stale entries (a worker died mid-call)', () => {
  it('are recorded UNKNOWN and not resent by default', async () => {
    const t = await setup();
    await t.store.claimEntries(JOB, [0, 1]); // the dead worker's claim
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(2)]]);
    expect(await t.results()).toEqual([
      { index: 0, status: 'UNKNOWN', error: expect.stringMatching(/in flight when a worker stopped/), attempts: 1 },
      { index: 1, status: 'UNKNOWN', error: expect.stringMatching(/in flight/), attempts: 1 },
      { index: 2, status: 'SUCCESS', messageId: 'm-0-0', attempts: 1 },
    ]);
  });

  it('are resent with atLeastOnce', async () => {
    const t = await setup({ atLeastOnce: true });
    await t.store.claimEntries(JOB, [0]);
    await t.process();
    expect(sentTo(t.ses.calls)).toEqual([[addr(0), addr(1), addr(2)]]);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });
});

describe('dispatcher: pacing, concurrency, payloads, failures', () => {
  it('paces calls through the limiter (rate 20/s → one recipient every 50 ms)', async () => {
    const at: number[] = [];
    const t = await setup({
      entries: 5,
      rate: 20,
      concurrency: 8,
      script: (call) => {
        at.push(t.clock.now());
        return success(call);
      },
    });
    await t.process();
    expect(at.map((x) => x - at[0])).toEqual([0, 50, 100, 150, 200]);
  });

  it('keeps at most `concurrency` SES calls in flight, across chunks', async () => {
    let inFlight = 0;
    let most = 0;
    const t = await setup({
      entries: 100,
      rate: 20,
      concurrency: 3,
      script: async (call) => {
        most = Math.max(most, ++inFlight);
        await t.clock.sleep(400);
        inFlight--;
        return success(call);
      },
    });
    await t.clock.run(
      Promise.all([
        t.dispatcher.processChunk(t.tasks[0], new AbortController().signal),
        t.dispatcher.processChunk(t.tasks[1], new AbortController().signal),
      ]),
    );
    expect(most).toBe(3);
    expect(t.ses.calls).toHaveLength(100);
    expect((await t.store.getJob(JOB))?.status).toBe('completed');
  });

  it('decodes attachments once per job and sends bytes, never base64 strings', async () => {
    const content: JobContent = {
      ...CONTENT,
      DefaultContent: {
        Template: {
          ...CONTENT.DefaultContent.Template,
          Attachments: [{ FileName: 'a.pdf', RawContent: Buffer.from('%PDF-1.7').toString('base64') }],
        },
      },
    };
    const store = memoryStore();
    const getPayload = vi.spyOn(store, 'getPayload');
    const t = await setup({ entries: 60, content, store });
    await t.process(t.tasks[0]);
    await t.process(t.tasks[1]);
    expect(t.ses.calls).toHaveLength(2);
    const raws = t.ses.calls.map((c) => c.input.DefaultContent?.Template?.Attachments?.[0].RawContent);
    expect(raws[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(raws[0] as Uint8Array).toString()).toBe('%PDF-1.7');
    expect(raws[1]).toBe(raws[0]); // the same decoded bytes: decoded once
    expect(getPayload).toHaveBeenCalledTimes(1);
  });

  it('store errors propagate so the queue reruns the task', async () => {
    const base = memoryStore();
    const store: Store = { ...base, recordResults: vi.fn().mockRejectedValueOnce(new Error('store down')) };
    const t = await setup({ store });
    await expect(t.process()).rejects.toThrow('store down');
    // The rerun finds the entries still in flight (stale): UNKNOWN, not resent.
    (store.recordResults as ReturnType<typeof vi.fn>).mockImplementation(base.recordResults);
    await t.process();
    expect(t.ses.calls).toHaveLength(1);
    expect(await t.statuses()).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
  });

  it('a missing job (expired) drops the chunk without sending', async () => {
    const t = await setup();
    await t.process({ jobId: 'nope', chunk: 0, entries: [{ index: 0, entry: entryFor(0) }] });
    expect(t.ses.calls).toHaveLength(0);
  });

  it('logs carry jobId, chunk, attempt and awsRequestId, never message bodies or addresses', async () => {
    const t = await setup({
      entries: 2,
      script: sequence(
        () => Promise.reject(sesError('InternalServiceErrorException', 500)),
        statusBy(() => 'SUCCESS'),
      ),
    });
    await t.process();
    const warn = t.logs.find(([level]) => level === 'warn');
    expect(warn?.[1]).toMatchObject({
      jobId: JOB,
      chunk: 0,
      attempt: 1,
      code: 'InternalServiceErrorException',
      httpStatus: 500,
      awsRequestId: 'err-req',
    });
    expect(t.logs.some(([, o]) => (o as { awsRequestId?: string }).awsRequestId === 'req-1')).toBe(true);
    const text = JSON.stringify(t.logs);
    expect(text).not.toMatch(/Secret|example\.com/);
  });

  it('an onEvent listener that throws does not stop sending', async () => {
    const t = await setup({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await t.process();
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(
      t.logs.some(([level, o]) => level === 'error' && (o as { code?: string }).code === 'EBE_EVENT_HANDLER'),
    ).toBe(true);
  });
});

describe('dispatcher: late calls', () => {
  it('a call that misses its rate-limiter slot (slow store) takes a fresh slot instead of bunching up', async () => {
    const clock = fakeClock(1_000_000);
    const store = memoryStore({ clock });
    const claim = store.claimEntries.bind(store);
    let slow = true;
    // The first claim takes 500 ms, as a stalled Redis might: that call's slot is gone by then.
    store.claimEntries = async (id, indexes) => {
      if (slow) {
        slow = false;
        await clock.sleep(500);
      }
      return claim(id, indexes);
    };
    const t = await setup({ store, clock, rate: 20, entries: 2 });
    const reserve = vi.spyOn(t.limiter, 'reserve');
    await t.process();
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS']);
    // Two calls of one recipient (burst 1 at 20/s); the late one reserved a second slot.
    expect(reserve).toHaveBeenCalledTimes(3);
  });
});
