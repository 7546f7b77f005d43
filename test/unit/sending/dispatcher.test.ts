// Unit tests: one taken call through the dispatcher — every fault path — against a mocked SES, the memory store, a fake clock.
import {
  type BulkEmailEntryResult,
  SendBulkEmailCommand,
  type SendBulkEmailCommandInput,
  SESv2Client,
  SESv2ServiceException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cutTasks } from '../../../src/sending/chunk.js';
import { DEFAULT_TIMING, createDispatcher, type DispatcherDeps } from '../../../src/sending/dispatcher.js';
import { memoryStore } from '../../../src/stores/memory-store.js';
import type {
  BulkEmailEvent,
  CallOutcome,
  ChunkTask,
  EntryResult,
  JobContent,
  JobRecord,
  Logger,
  Store,
  TakenCall,
} from '../../../src/types.js';
import { fakeClock } from '../../helpers/fake-clock.js';

const JOB = 'job-1';
const addr = (i: number) => `r${i}@example.com`;
const CONTENT: JobContent = {
  FromEmailAddress: 'sender@example.com',
  DefaultContent: {
    Template: {
      TemplateContent: { Subject: 'Secret subject {{x}}', Text: 'Secret body {{x}}' },
      TemplateData: '{"x":"1"}',
    },
  },
};

interface Call {
  n: number;
  input: SendBulkEmailCommandInput;
  to: string[];
}
type Answer = { results: BulkEmailEntryResult[]; requestId?: string };
type Script = (call: Call) => Answer | Promise<Answer>;

const success: Script = (call) => ({
  results: call.to.map((_, i) => ({ Status: 'SUCCESS', MessageId: `m-${call.n}-${i}` })),
  requestId: `req-${call.n}`,
});
const statusBy =
  (pick: (to: string, call: Call) => string): Script =>
  (call) => ({
    results: call.to.map((to, i) => {
      const Status = pick(to, call) as BulkEmailEntryResult['Status'];
      return Status === 'SUCCESS'
        ? { Status, MessageId: `m-${call.n}-${i}` }
        : { Status, Error: `${Status} for ${to}` };
    }),
  });
const sequence =
  (...scripts: Script[]): Script =>
  (call) =>
    scripts[Math.min(call.n, scripts.length - 1)](call);
const sesError = (name: string, httpStatusCode: number, message = name) =>
  new SESv2ServiceException({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'err-req' },
  });
const nodeError = (code: string, message = `${code.toLowerCase()} happened`) =>
  Object.assign(new Error(message), { code });

const mocks: ReturnType<typeof mockClient>[] = [];
afterEach(() => {
  for (const m of mocks.splice(0)) m.restore();
});

interface SetupOptions extends Partial<Pick<DispatcherDeps, 'atLeastOnce' | 'callTimeoutMs'>> {
  script?: Script;
  entries?: number;
  store?: Store;
  content?: JobContent;
  attempts?: number;
  quotaHoldMs?: number;
}

async function setup(options: SetupOptions = {}) {
  const { script = success, entries = 3, content = CONTENT } = options;
  const clock = fakeClock(1_000_000);
  const store = options.store ?? memoryStore({ clock });
  const client = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  mocks.push(mock);
  const calls: Call[] = [];
  mock.on(SendBulkEmailCommand).callsFake(async (input: SendBulkEmailCommandInput) => {
    const call: Call = {
      n: calls.length,
      input,
      to: (input.BulkEmailEntries ?? []).map((e) => (e.Destination?.ToAddresses ?? []).join(',')),
    };
    calls.push(call);
    const answer = await script(call);
    return { BulkEmailEntryResults: answer.results, $metadata: { httpStatusCode: 200, requestId: answer.requestId } };
  });
  const queue = {
    pause: vi.fn(async () => {}),
    resume: vi.fn(async () => {}),
    remove: vi.fn(async () => {}),
    penalize: vi.fn(async () => {}),
  };
  const events: BulkEmailEvent[] = [];
  const logs: Array<[string, object, string | undefined]> = [];
  const logger: Logger = {
    debug: (o, m) => logs.push(['debug', o, m]),
    info: (o, m) => logs.push(['info', o, m]),
    warn: (o, m) => logs.push(['warn', o, m]),
    error: (o, m) => logs.push(['error', o, m]),
  };
  const quotaSpent = vi.fn(() => options.quotaHoldMs ?? 10_000);
  const dispatch = createDispatcher({
    ses: client,
    store,
    queue,
    retry: { attempts: options.attempts ?? 6, baseDelayMs: 200, maxDelayMs: 20_000 },
    atLeastOnce: options.atLeastOnce ?? false,
    callTimeoutMs: options.callTimeoutMs ?? 30_000,
    clock,
    logger,
    emit: (e) => events.push(e),
    quotaSpent,
    timing: DEFAULT_TIMING,
    random: () => 0.5,
  });
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
  const indexed = Array.from({ length: entries }, (_, index) => ({
    index,
    entry: { Destination: { ToAddresses: [addr(index)] } },
  }));
  const tasks = cutTasks(JOB, indexed);
  let leases = 0;
  const taken = (task: ChunkTask = tasks[0], startAt = clock.now()): TakenCall => ({
    lease: `lease-${++leases}`,
    principalId: 'p1',
    task,
    recipients: task.entries.length,
    startAt,
  });
  const run = (call: TakenCall = taken(), signal: AbortSignal = new AbortController().signal) =>
    clock.run(dispatch(call, signal));
  const results = () => store.getResults(JOB, -1, 1000);
  const statuses = async () => (await results()).map((r) => r.status);
  return { clock, store, mock, calls, queue, events, logs, quotaSpent, tasks, taken, run, results, statuses };
}

const types = (events: BulkEmailEvent[]) => events.map((e) => e.type);
const again = (outcome: CallOutcome) => {
  expect(outcome.kind).toBe('again');
  return outcome as Extract<CallOutcome, { kind: 'again' }>;
};

describe('dispatcher: a call that goes well', () => {
  it('waits for its slot, claims, sends once, records, says done, and the job completes', async () => {
    const t = await setup();
    const out = await t.run(t.taken(t.tasks[0], t.clock.now() + 150));
    expect(out).toEqual({ kind: 'done' });
    expect(t.clock.slept).toContain(150);
    expect(t.calls.map((c) => c.to)).toEqual([[addr(0), addr(1), addr(2)]]);
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
      succeeded: 3,
      awsRequestId: 'req-0',
    });
  });

  it('a stop while it waits for its slot hands every entry back at once, claiming nothing', async () => {
    const t = await setup();
    const ctl = new AbortController();
    const pending = t.run(t.taken(t.tasks[0], t.clock.now() + 1000), ctl.signal);
    ctl.abort();
    const out = again(await pending);
    expect(out.entries.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(out.reason).toBe('WORKER_STOPPED');
    expect(t.calls).toHaveLength(0);
    // Nothing in flight: another lease claims them all.
    expect(await t.store.claimEntries(JOB, [0, 1, 2], 'other')).toEqual({ claimed: [0, 1, 2], stale: [] });
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
    await t.run(t.taken(t.tasks[0]));
    await t.run(t.taken(t.tasks[1]));
    const raws = t.calls.map((c) => c.input.DefaultContent?.Template?.Attachments?.[0].RawContent);
    expect(raws[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(raws[0] as Uint8Array).toString()).toBe('%PDF-1.7');
    expect(raws[1]).toBe(raws[0]);
    expect(getPayload).toHaveBeenCalledTimes(1);
  });
});

describe('dispatcher: retries go back to the queue (no sleeping inside a held call)', () => {
  it('TRANSIENT_FAILURE: only those entries come back, due after backoff, with their attempts and error', async () => {
    const failing = new Set([addr(1)]);
    const t = await setup({ script: statusBy((to) => (failing.has(to) ? 'TRANSIENT_FAILURE' : 'SUCCESS')) });
    const before = t.clock.now();
    const out = again(await t.run());
    expect(out.entries).toEqual([{ index: 1, entry: t.tasks[0].entries[1].entry, attempts: 1 }]);
    expect(out.notBefore - before).toBe(100); // 0.5 × 200 ms, full jitter
    expect(out.reason).toBe('TRANSIENT_FAILURE');
    expect(t.clock.slept).not.toContain(100);
    expect((await t.results())[1]).toEqual({
      index: 1,
      status: 'PENDING',
      error: { code: 'TRANSIENT_FAILURE', message: `TRANSIENT_FAILURE for ${addr(1)}` },
      attempts: 1,
    });
    expect(t.events.find((e) => e.type === 'chunk.retry')).toMatchObject({ entries: 1, delayMs: 100 });
  });

  it('an entry out of attempts keeps its last status', async () => {
    const t = await setup({ entries: 1, attempts: 3, script: statusBy(() => 'TRANSIENT_FAILURE') });
    const task = { ...t.tasks[0], entries: [{ ...t.tasks[0].entries[0], attempts: 2 }] };
    expect(await t.run(t.taken(task))).toEqual({ kind: 'done' });
    expect(await t.results()).toMatchObject([{ status: 'TRANSIENT_FAILURE', attempts: 3 }]);
    expect(types(t.events).at(-1)).toBe('job.completed');
  });

  it('TooManyRequestsException: slows the shared pacing and hands the call back', async () => {
    const t = await setup({ script: () => Promise.reject(sesError('TooManyRequestsException', 429)) });
    const out = again(await t.run());
    expect(out.entries).toHaveLength(3);
    expect(t.queue.penalize).toHaveBeenCalledTimes(1);
    expect((await t.results())[0].error).toMatchObject({ code: 'SES_THROTTLED' });
  });

  it('5xx is retried; a reset after the request left is UNKNOWN, not resent; atLeastOnce resends it', async () => {
    const t = await setup({ script: () => Promise.reject(sesError('ServiceUnavailable', 503)) });
    expect(again(await t.run()).entries).toHaveLength(3);
    const u = await setup({ script: () => Promise.reject(nodeError('ECONNRESET', 'socket hang up')) });
    expect(await u.run()).toEqual({ kind: 'done' });
    expect(await u.results()).toMatchObject(
      [0, 1, 2].map(() => ({ status: 'UNKNOWN', attempts: 1, error: { code: 'CONNECTION_RESET' } })),
    );
    const v = await setup({ atLeastOnce: true, script: () => Promise.reject(nodeError('ECONNRESET')) });
    expect(again(await v.run()).entries).toHaveLength(3);
  });

  it('our call timeout: UNKNOWN (SES_TIMEOUT)', async () => {
    const t = await setup({
      callTimeoutMs: 5000,
      script: async () => {
        await t.clock.sleep(6000);
        const cause = Object.assign(new Error('SES did not answer within 5000 ms'), { name: 'TimeoutError' });
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError', cause });
      },
    });
    expect(await t.run()).toEqual({ kind: 'done' });
    expect((await t.results())[0]).toMatchObject({ status: 'UNKNOWN', error: { code: 'SES_TIMEOUT' } });
  });

  it('SendingPausedException: the call is held 60 s, the attempt not counted', async () => {
    const t = await setup({ script: () => Promise.reject(sesError('SendingPausedException', 400, 'Sending paused')) });
    const before = t.clock.now();
    const out = again(await t.run());
    expect(out.notBefore - before).toBe(60_000);
    expect(out.entries.map((e) => e.attempts)).toEqual([0, 0, 0]);
    expect(await t.statuses()).toEqual(['PENDING', 'PENDING', 'PENDING']);
  });

  it('ACCOUNT_DAILY_QUOTA_EXCEEDED: tells the engine the quota is spent and holds the entries for its answer', async () => {
    const t = await setup({ quotaHoldMs: 10_000, script: statusBy(() => 'ACCOUNT_DAILY_QUOTA_EXCEEDED') });
    const before = t.clock.now();
    const out = again(await t.run());
    expect(t.quotaSpent).toHaveBeenCalled();
    expect(out.notBefore - before).toBe(10_000);
    expect(out.reason).toBe('ACCOUNT_DAILY_QUOTA_EXCEEDED');
  });
});

describe('dispatcher: job-fatal outcomes fail the job at once (one failing call, never one per entry)', () => {
  const cases: Array<[string, Script, string, string]> = [
    [
      'bad credentials (UnrecognizedClientException)',
      () =>
        Promise.reject(
          sesError('UnrecognizedClientException', 403, 'The security token included in the request is invalid.'),
        ),
      'SES_CREDENTIALS',
      'FAILED',
    ],
    [
      'missing permission (AccessDeniedException)',
      () => Promise.reject(sesError('AccessDeniedException', 403)),
      'SES_ACCESS_DENIED',
      'FAILED',
    ],
    [
      'unverified sender (MessageRejected, not verified)',
      () =>
        Promise.reject(
          sesError(
            'MessageRejected',
            400,
            'Email address is not verified. The following identities failed the check: sender@example.com',
          ),
        ),
      'SES_IDENTITY_NOT_VERIFIED',
      'MESSAGE_REJECTED',
    ],
    [
      'missing configuration set (NotFoundException)',
      () => Promise.reject(sesError('NotFoundException', 404, 'Configuration set cs does not exist.')),
      'CONFIGURATION_SET_NOT_FOUND',
      'CONFIGURATION_SET_NOT_FOUND',
    ],
    [
      'suspended account',
      () => Promise.reject(sesError('AccountSuspendedException', 400)),
      'ACCOUNT_SUSPENDED',
      'ACCOUNT_SUSPENDED',
    ],
    [
      'a per-entry fatal status (MAIL_FROM_DOMAIN_NOT_VERIFIED)',
      statusBy(() => 'MAIL_FROM_DOMAIN_NOT_VERIFIED'),
      'MAIL_FROM_DOMAIN_NOT_VERIFIED',
      'MAIL_FROM_DOMAIN_NOT_VERIFIED',
    ],
  ];
  for (const [name, script, code, sentStatus] of cases) {
    it(name, async () => {
      const t = await setup({ entries: 120, script });
      expect(await t.run(t.taken(t.tasks[0]))).toEqual({ kind: 'done' });
      expect(t.calls).toHaveLength(1);
      const job = await t.store.getJob(JOB);
      expect(job).toMatchObject({ status: 'failed', error: { code }, counts: { failed: 120, pending: 0 } });
      const r = await t.results();
      expect(r[0].status).toBe(sentStatus);
      expect(r.slice(50).every((x) => x.status === 'FAILED' && x.error?.code === code && x.attempts === 0)).toBe(true);
      expect(t.queue.remove).toHaveBeenCalledWith(JOB);
      expect(t.events.at(-1)).toMatchObject({ type: 'job.failed', jobId: JOB, error: { code } });
      // The job's other calls send nothing.
      expect(await t.run(t.taken(t.tasks[1]))).toEqual({ kind: 'done' });
      expect(t.calls).toHaveLength(1);
    });
  }

  it('SES unreachable: retried with the call’s attempts, then the job fails with a message free of hosts and ports', async () => {
    const t = await setup({
      entries: 60,
      attempts: 3,
      script: () => Promise.reject(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')),
    });
    let task = t.tasks[0];
    for (let i = 0; i < 2; i++) {
      const out = again(await t.run(t.taken(task)));
      task = { ...task, entries: out.entries };
    }
    expect(await t.run(t.taken(task))).toEqual({ kind: 'done' });
    expect(t.calls).toHaveLength(3);
    const job = await t.store.getJob(JOB);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'SES_UNREACHABLE', message: 'SES unreachable' } });
    expect(JSON.stringify(await t.results())).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    expect(t.logs.some(([, o]) => JSON.stringify(o).includes('127.0.0.1:1'))).toBe(true); // the raw error is logged
  });
});

describe('dispatcher: an ambiguous store (issue 17) never turns unsent entries into UNKNOWN', () => {
  it('a claim that was applied but whose answer was lost: nothing is sent, the entries are released', async () => {
    const base = memoryStore();
    let fail = 1;
    const store: Store = {
      ...base,
      claimEntries: async (id, indexes, token) => {
        const out = await base.claimEntries(id, indexes, token);
        if (fail-- > 0) throw new Error('Command timed out');
        return out;
      },
    };
    const t = await setup({ store });
    const out = again(await t.run());
    expect(out.reason).toBe('STORE_UNAVAILABLE');
    expect(out.entries.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(t.calls).toHaveLength(0);
    // The next lease claims them (not stale) and sends them once.
    expect(await t.run(t.taken())).toEqual({ kind: 'done' });
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect((await t.store.getJob(JOB))?.counts.unknown).toBe(0);
    expect(t.calls).toHaveLength(1);
  });

  it('the release is retried until the store answers', async () => {
    const base = memoryStore();
    let releases = 0;
    const store: Store = {
      ...base,
      claimEntries: async (id, indexes, token) => {
        await base.claimEntries(id, indexes, token);
        throw new Error('connection lost');
      },
      releaseEntries: async (id, token) => {
        if (++releases < 4) throw new Error('still down');
        return base.releaseEntries(id, token);
      },
    };
    const t = await setup({ store });
    again(await t.run());
    expect(releases).toBe(4);
    expect(await base.claimEntries(JOB, [0, 1, 2], 'fresh')).toEqual({ claimed: [0, 1, 2], stale: [] });
    expect(t.logs.some(([, o]) => (o as { code?: string }).code === 'EBE_STORE_RETRY')).toBe(true);
  });

  it('a record that fails is retried until stored: SES is called once, the results are the real ones', async () => {
    const base = memoryStore();
    let fails = 3;
    const store: Store = {
      ...base,
      recordResults: async (id, results) => {
        if (fails-- > 0) throw new Error('Connection is closed.');
        return base.recordResults(id, results);
      },
    };
    const t = await setup({ store });
    expect(await t.run()).toEqual({ kind: 'done' });
    expect(t.calls).toHaveLength(1);
    expect(await t.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(types(t.events)).toContain('job.completed');
  });

  it('the payload cannot be read: the call comes back later, nothing claimed', async () => {
    const base = memoryStore();
    const store: Store = { ...base, getPayload: vi.fn().mockRejectedValueOnce(new Error('down')) };
    const t = await setup({ store });
    const out = again(await t.run());
    expect(out.reason).toBe('STORE_UNAVAILABLE');
    expect(out.notBefore).toBeGreaterThan(t.clock.now());
    expect(await t.store.claimEntries(JOB, [0], 'x')).toEqual({ claimed: [0], stale: [] });
  });
});

describe('dispatcher: the job changed under the call', () => {
  it('paused: the queue is told, the entries come back, nothing is sent', async () => {
    const t = await setup();
    await t.store.setPaused(JOB, true);
    const out = again(await t.run());
    expect(out.reason).toBe('PAUSED');
    expect(out.entries).toHaveLength(3);
    expect(t.queue.pause).toHaveBeenCalledWith(JOB);
    expect(t.queue.resume).not.toHaveBeenCalled();
    expect(t.calls).toHaveLength(0);
  });

  it('paused, then resumed before the queue heard of the pause: the queue is resumed again', async () => {
    const t = await setup();
    await t.store.setPaused(JOB, true);
    // The owner resumes while this call's claim is being refused: the store says sending when the dispatcher looks.
    t.queue.pause.mockImplementationOnce(async () => {
      await t.store.setPaused(JOB, false);
    });
    const out = again(await t.run());
    expect(out.reason).toBe('PAUSED');
    expect(t.queue.pause).toHaveBeenCalledWith(JOB);
    expect(t.queue.resume).toHaveBeenCalledWith(JOB, undefined);
    expect(t.calls).toHaveLength(0);
  });

  it('canceled, finished or gone: the queue forgets the job, nothing is sent', async () => {
    const t = await setup();
    await t.store.finishPending(JOB, { status: 'CANCELED', cancel: true });
    expect(await t.run()).toEqual({ kind: 'done' });
    expect(t.queue.remove).toHaveBeenCalledWith(JOB);
    const gone = await t.run(t.taken({ jobId: 'nope', chunk: 0, entries: t.tasks[0].entries }));
    expect(gone).toEqual({ kind: 'done' });
    expect(t.queue.remove).toHaveBeenCalledWith('nope');
    expect(t.calls).toHaveLength(0);
  });

  it('entries in flight under another lease (a stopped worker) end UNKNOWN; atLeastOnce resends them', async () => {
    const t = await setup();
    await t.store.claimEntries(JOB, [0, 1], 'dead-worker');
    await t.run();
    expect(t.calls.map((c) => c.to)).toEqual([[addr(2)]]);
    const r = await t.results();
    expect(r[0]).toEqual({
      index: 0,
      status: 'UNKNOWN',
      error: expect.objectContaining({ code: 'WORKER_STOPPED' }),
      attempts: 1,
    });
    const u = await setup({ atLeastOnce: true });
    await u.store.claimEntries(JOB, [0], 'dead-worker');
    await u.run();
    expect(u.calls.map((c) => c.to)).toEqual([[addr(0), addr(1), addr(2)]]);
    expect(await u.statuses()).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });
});

describe('dispatcher: logs', () => {
  it('carry jobId, chunk, attempt and awsRequestId, never message bodies or addresses', async () => {
    const t = await setup({
      entries: 2,
      script: sequence(() => Promise.reject(sesError('InternalServiceErrorException', 500)), success),
    });
    const out = again(await t.run());
    await t.run(t.taken({ ...t.tasks[0], entries: out.entries }));
    const warn = t.logs.find(([level]) => level === 'warn');
    expect(warn?.[1]).toMatchObject({
      jobId: JOB,
      chunk: 0,
      attempt: 1,
      code: 'InternalServiceErrorException',
      httpStatus: 500,
    });
    expect(t.logs.some(([, o]) => (o as { awsRequestId?: string }).awsRequestId === 'req-1')).toBe(true);
    expect(JSON.stringify(t.logs)).not.toMatch(/Secret|example\.com/);
  });
});

describe('dispatcher: results written are the store’s, through every path', () => {
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
      attempts: 20,
      script: statusBy((to) => {
        expect(succeeded.has(to)).toBe(false);
        const status = mix[Math.floor(random() * mix.length)];
        if (status === 'SUCCESS') succeeded.add(to);
        return status;
      }),
    });
    let task: ChunkTask | undefined = t.tasks[0];
    while (task) {
      const out = await t.run(t.taken(task));
      task = out.kind === 'again' ? { ...t.tasks[0], entries: out.entries } : undefined;
    }
    const times = new Map<string, number>();
    for (const call of t.calls) for (const to of call.to) times.set(to, (times.get(to) ?? 0) + 1);
    const results: EntryResult[] = await t.results();
    for (const x of results) {
      expect(x.status).toBe('SUCCESS');
      expect(times.get(addr(x.index))).toBe(x.attempts);
    }
  });
});
