// The Redis example: its web app through HTTP with a worker in this process, then its two entry points as real processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../examples/redis-workers/app.js';
import { startWorker } from '../../examples/redis-workers/worker.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../integ/redis-helpers.js';

if (!REDIS_URL)
  console.warn('[examples] redis-workers skipped: it needs a Redis; set REDIS_URL (e.g. redis://127.0.0.1:6379)');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'Bearer demo-key-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `node --import tsx <entry>` and resolves with the first stdout line matching `pattern`. */
function run(
  entry: string,
  env: Record<string, string>,
  pattern: RegExp,
): { proc: ChildProcess; match: Promise<RegExpMatchArray> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', `examples/redis-workers/${entry}`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = new Promise<RegExpMatchArray>((resolve, reject) => {
    let out = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) resolve(m);
    });
    proc.once('exit', (code) => reject(new Error(`${entry} exited (${code}) before printing ${pattern}: ${out}`)));
  });
  return { proc, match };
}

/** SIGTERM, then the exit code (SIGKILL and fail after `ms`). */
async function terminate(proc: ChildProcess, ms = 15_000): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

describe.skipIf(!REDIS_URL)('examples/redis-workers', () => {
  const connection = REDIS_URL as string;
  const prefix = uniquePrefix('example-redis');
  let ses: SesEmulator;

  beforeAll(async () => {
    ses = await startSesEmulator();
  });
  afterAll(async () => {
    await ses?.close();
    await deleteKeys(prefix);
  });
  beforeEach(async () => {
    await ses.clear();
  });

  it('the web app accepts and tracks, the worker sends; API keys are principals and jobs are private', async () => {
    const queueName = `q-${randomUUID()}`;
    const web = createApp({ ses: ses.client(), connection, prefix, queueName, sendRate: 200 });
    const worker = startWorker({ ses: ses.client(), connection, prefix, queueName, sendRate: 200, signals: [] });
    try {
      await worker.ready;
      expect(worker.rate()).toBe(200);
      const none = await request(web.app).post('/bulk-email').send(bulkBody(1)).expect(401);
      expect(none.body.error.code).toBe('UNAUTHORIZED');
      await request(web.app).post('/bulk-email').set('Authorization', 'Bearer nope').send(bulkBody(1)).expect(401);

      const res = await request(web.app)
        .post('/bulk-email')
        .set('Authorization', KEY)
        .set('Prefer', 'wait=20')
        .send(bulkBody(120))
        .expect(200);
      expect(res.body.data).toMatchObject({ status: 'completed', entries: 120, counts: { sent: 120, pending: 0 } });
      expect(await ses.emails()).toHaveLength(120);

      const id = res.body.data.id;
      await request(web.app).get(`/bulk-email/${id}`).set('Authorization', 'Bearer demo-key-2').expect(404);
      const page = await request(web.app)
        .get(`/bulk-email/${id}/results`)
        .query({ limit: 100 })
        .set('Authorization', KEY)
        .expect(200);
      expect(page.body.data.results).toHaveLength(100);
      expect(page.body.data.results.every((r: { status: string }) => r.status === 'SUCCESS')).toBe(true);
      expect(page.body.data.next_cursor).toEqual(expect.any(String));
    } finally {
      await worker.close();
      await web.close();
    }
  });

  it('jobs wait in Redis while no worker runs; a worker started later sends them, and any web instance reports them', async () => {
    const queueName = `q-${randomUUID()}`;
    const web = createApp({ ses: ses.client(), connection, prefix, queueName, sendRate: 200 });
    const other = createApp({ ses: ses.client(), connection, prefix, queueName, sendRate: 200 });
    let worker: ReturnType<typeof startWorker> | undefined;
    try {
      const created = await request(web.app)
        .post('/bulk-email')
        .set('Authorization', KEY)
        .send(bulkBody(30))
        .expect(202);
      const id = created.body.data.id;
      await sleep(300);
      const waiting = await request(other.app).get(`/bulk-email/${id}`).set('Authorization', KEY).expect(200);
      expect(waiting.body.data).toMatchObject({ status: 'queued', counts: { pending: 30, sent: 0 } });
      expect(await ses.emails()).toHaveLength(0);

      worker = startWorker({ ses: ses.client(), connection, prefix, queueName, sendRate: 200, signals: [] });
      await worker.ready;
      let job: { status: string; counts: { sent: number } } | undefined;
      for (let i = 0; i < 200 && job?.status !== 'completed'; i++) {
        await sleep(50);
        job = (await request(other.app).get(`/bulk-email/${id}`).set('Authorization', KEY).expect(200)).body.data;
      }
      expect(job).toMatchObject({ status: 'completed', counts: { sent: 30 } });
      expect(await ses.emails()).toHaveLength(30);
    } finally {
      await worker?.close();
      await Promise.all([web.close(), other.close()]);
    }
  });

  it('server.ts and worker-main.ts run under tsx as separate processes, send, and stop cleanly on SIGTERM', async () => {
    const env = {
      REDIS_URL: connection,
      SES_ENDPOINT: ses.url,
      EBE_PREFIX: prefix,
      EBE_QUEUE: `q-${randomUUID()}`,
      SEND_RATE: '100',
      API_KEYS: 'test-key=tester',
      PORT: '0',
    };
    const server = run('server.ts', env, /on (http:\/\/127\.0\.0\.1:\d+\/bulk-email)/);
    const worker = run('worker-main.ts', env, /sending at (\d+) recipients\/s/);
    try {
      const [[, url], [, rate]] = await Promise.all([server.match, worker.match]);
      expect(rate).toBe('100');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-key', prefer: 'wait=20' },
        body: JSON.stringify(bulkBody(20)),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { status: string; counts: { sent: number } } };
      expect(body.data).toMatchObject({ status: 'completed', counts: { sent: 20 } });
      expect(await ses.emails()).toHaveLength(20);
      const [workerCode, serverCode] = await Promise.all([terminate(worker.proc), terminate(server.proc)]);
      expect(workerCode).toBe(0);
      expect(serverCode).toBe(0);
    } finally {
      for (const p of [server.proc, worker.proc]) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
  }, 40_000);
});
