// The Redis example: its web app in this process, two worker-main.ts processes sending to the SES emulator.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../examples/redis-workers/app.js';
import { bulkBody } from '../helpers/bodies.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL)
  console.warn('[examples] redis-workers skipped: it needs a Redis; set REDIS_URL (e.g. redis://127.0.0.1:6379)');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface WorkerProcess {
  proc: ChildProcess;
  /** Resolves with the rate the worker printed once it takes from the queue; rejects if it exits first. */
  started: Promise<number>;
  exit: Promise<number | null>;
}

/** `node --import tsx examples/redis-workers/worker-main.ts` with `env`, as a user would run it. */
function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/redis-workers/worker-main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const started = new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const m = /sending at (\d+) recipients\/s/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exit.then((code) => reject(new Error(`worker-main.ts exited (${code}) before starting: ${out}`)));
  });
  return { proc, started, exit };
}

interface CountingProxy {
  url: string;
  /** SendBulkEmail calls forwarded so far. */
  bulkCalls(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the SES emulator that counts SendBulkEmail calls: one per worker shows which worker sent
 * (the emulator keeps one store per Node process, so two emulators cannot tell them apart).
 */
async function countingProxy(target: SesEmulator): Promise<CountingProxy> {
  let calls = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/v2/email/outbound-bulk-emails')) calls++;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bulkCalls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** SIGTERM, then the exit code (SIGKILL after 20 s, which gives `null`). */
async function terminate(worker: WorkerProcess): Promise<number | null> {
  if (worker.proc.exitCode !== null || worker.proc.signalCode !== null) return worker.proc.exitCode;
  worker.proc.kill('SIGTERM');
  const timer = setTimeout(() => worker.proc.kill('SIGKILL'), 20_000);
  const code = await worker.exit;
  clearTimeout(timer);
  return code;
}

describe.skipIf(!REDIS_URL)('examples/redis-workers', () => {
  const connection = REDIS_URL as string;
  const prefix = `ebe-test-example-workers-${randomUUID().slice(0, 8)}`;
  let ses: SesEmulator | undefined;
  const proxies: CountingProxy[] = [];
  const workers: WorkerProcess[] = [];
  let closeWeb: (() => Promise<void>) | undefined;

  afterAll(async () => {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    await closeWeb?.();
    await Promise.all(proxies.map((p) => p.close()));
    await ses?.close();
    await deleteKeysAt(connection, prefix);
  });

  it('two worker processes send a 200-recipient job queued by the web app, once per recipient, and exit 0 on SIGTERM', async () => {
    ses = await startSesEmulator();
    const web = createApp({ ses: ses.client(), connection, prefix, sendRate: 100 });
    closeWeb = web.close;
    proxies.push(await countingProxy(ses), await countingProxy(ses));
    for (const proxy of proxies) {
      const env = { REDIS_URL: connection, EBE_PREFIX: prefix, SEND_RATE: '100', SES_ENDPOINT: proxy.url };
      workers.push(startWorkerProcess(env));
    }
    expect(await Promise.all(workers.map((w) => w.started))).toEqual([100, 100]);

    await request(web.app).post('/bulk-email').send(bulkBody(1)).expect(401);
    const res = await request(web.app)
      .post('/bulk-email')
      .set('Authorization', 'Bearer demo-key-1')
      .set('Prefer', 'wait=60')
      .send(bulkBody(200))
      .expect(200);
    expect(res.body.data).toMatchObject({ status: 'completed', entries: 200, counts: { sent: 200, pending: 0 } });

    const recipients = (await ses.emails()).flatMap((e) => e.destination.to);
    expect(recipients.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `user${i}@example.com`).sort());
    const perWorker = proxies.map((p) => p.bulkCalls());
    console.log(`redis-workers example: SendBulkEmail calls per worker ${perWorker.join(', ')}`);
    for (const calls of perWorker) expect(calls).toBeGreaterThan(0);

    expect(await Promise.all(workers.map(terminate))).toEqual([0, 0]);
  }, 60_000);
});
