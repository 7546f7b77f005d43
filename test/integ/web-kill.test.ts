// Issue 16 item 4: a web process SIGKILLed while creating a job. Two web processes share one Redis; the first kills
// itself (a real SIGKILL) at a chosen point, the client retries the same request with the same Idempotency-Key on
// the second: exactly one job exists afterwards, and a claim left by a dead process blocks the key minutes, not 24 h.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_CLAIM_TTL_MS } from '../../src/http/idempotency.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { type PrivateRedis, startPrivateRedis } from './private-redis.js';
import { type Child, spawnChild, stopChild } from './queue-children.js';
import { REDIS_URL } from './redis-helpers.js';
import type { RedisWebConfig, RedisWebMessage } from './redis-web-process.js';

const PRINCIPAL = 'tenant-web';

async function startWeb(config: RedisWebConfig): Promise<{ child: Child<RedisWebMessage>; url: string }> {
  const child = spawnChild<RedisWebMessage>('./redis-web-process.ts', config);
  await child.ready;
  const listening = child.messages.find((m) => m.type === 'listening') as { port: number };
  return { child, url: `http://127.0.0.1:${listening.port}/bulk-email` };
}

const post = (url: string, key: string, n: number) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(bulkBody(n, { domain: 'web-kill.test' })),
  });

describe.skipIf(!REDIS_URL)('a web process SIGKILLed while creating a job (issue 16)', () => {
  let redis: PrivateRedis;
  let ses: SesEmulator;
  let probe: Redis;
  const children: Child<RedisWebMessage>[] = [];
  const web = async (config: RedisWebConfig) => {
    const started = await startWeb(config);
    children.push(started.child);
    return started.url;
  };
  /** The store's job records under `prefix` (one hash per job; its other keys have suffixes). */
  const jobsIn = async (prefix: string) =>
    (await probe.keys(`{${prefix}}:s:job:*`)).filter((k) => /:job:[^:]+$/.test(k));
  const claimKey = (prefix: string, key: string) => `{${prefix}}:s:idem:${PRINCIPAL.length}:${PRINCIPAL}:${key}`;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    ses = await startSesEmulator();
    probe = new Redis(redis.url);
  });
  afterAll(async () => {
    await Promise.all(children.map(stopChild));
    probe?.disconnect();
    await ses?.close();
    await redis?.stop();
  });

  it('killed after storing the job, before answering: the retry on another process answers that one job', async () => {
    const prefix = 'after-store';
    const doomed = await web({ redisUrl: redis.url, sesUrl: ses.url, prefix, die: 'after-store' });
    const survivor = await web({ redisUrl: redis.url, sesUrl: ses.url, prefix });
    const first = await post(doomed, 'order-1', 20).then(
      (res) => `answered ${res.status}`,
      (err: Error) => `failed: ${err.message}`,
    );
    expect(first).toMatch(/^failed/);
    if (!children[0].exited()) await new Promise((r) => children[0].proc.once('exit', r));
    expect(children[0].proc.signalCode).toBe('SIGKILL');
    expect(await jobsIn(prefix)).toHaveLength(1);

    const retry = await post(survivor, 'order-1', 20);
    const body = await retry.json();
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const [stored] = await jobsIn(prefix);
    expect(stored.endsWith(`:job:${body.data.id}`)).toBe(true);
    // and again: the answer is kept now (24 h), still that job
    const again = await post(survivor, 'order-1', 20);
    expect((await again.json()).data.id).toBe(body.data.id);
    expect(await jobsIn(prefix)).toHaveLength(1);
    const pttl = await probe.pttl(claimKey(prefix, 'order-1'));
    expect(pttl).toBeGreaterThan(IDEMPOTENCY_CLAIM_TTL_MS);
  });

  it('killed before storing the job: its claim expires within minutes, then the retry creates exactly one job', async () => {
    const prefix = 'before-store';
    const doomed = await web({ redisUrl: redis.url, sesUrl: ses.url, prefix, die: 'before-store' });
    const survivor = await web({ redisUrl: redis.url, sesUrl: ses.url, prefix });
    await post(doomed, 'order-2', 20).then(
      () => expect.unreachable('the doomed process answered'),
      () => undefined,
    );
    const claim = claimKey(prefix, 'order-2');
    const pttl = await probe.pttl(claim);
    console.log(`issue 16 web kill: the dead process's idempotency claim expires in ${pttl} ms`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(IDEMPOTENCY_CLAIM_TTL_MS);
    expect(IDEMPOTENCY_CLAIM_TTL_MS).toBeLessThanOrEqual(5 * 60_000);

    const blocked = await post(survivor, 'order-2', 20);
    expect(blocked.status).toBe(409);
    expect(await blocked.json()).toMatchObject({ success: false, error: { code: 'IDEMPOTENCY_IN_FLIGHT' } });
    expect(await jobsIn(prefix)).toHaveLength(0);

    // Fast-forward the claim's clock: Redis expires it as it would after its TTL.
    await probe.pexpire(claim, 1);
    await new Promise((r) => setTimeout(r, 20));
    const retries = await Promise.all([post(survivor, 'order-2', 20), post(survivor, 'order-2', 20)]);
    const statuses = retries.map((r) => r.status).sort();
    expect(statuses[0]).toBe(202);
    expect([202, 409]).toContain(statuses[1]);
    expect(await jobsIn(prefix)).toHaveLength(1);
  });
});
