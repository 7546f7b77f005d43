// Soak (issue 16 item 6): mixed load for a while against a private Redis — new jobs, cancels, worker restarts (a
// graceful close or a SIGKILL, alternately) — with the web process's heap and Redis memory (INFO memory, DBSIZE)
// sampled; then every job final, and after the store's retention no key of a job left behind.
// Run: npm run bench -- soak [--minutes 10] [--retention-s 30]   (needs redis-server on PATH; not in CI)
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { bulkEmail } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { prng } from '../helpers/prng.js';
import { startSesEmulator } from '../helpers/ses-emulator.js';
import { startPrivateRedis } from '../integ/private-redis.js';
import { type Child, spawnChild, stopChild } from '../integ/queue-children.js';
import type { RedisWorkerConfig, RedisWorkerMessage } from '../integ/redis-worker-process.js';

const flag = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MINUTES = flag('minutes', 10);
const RETENTION_MS = flag('retention-s', 30) * 1000;
const RATE = 300;
const SAMPLE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;
const MB = (n: number) => (n / 1048576).toFixed(1);

const redis = await startPrivateRedis();
const probe = new Redis(redis.url);
const ses = await startSesEmulator();
const prefix = 'soak';
const config: RedisWorkerConfig = {
  redisUrl: redis.url,
  sesUrl: ses.url,
  prefix,
  sendRate: RATE,
  concurrency: 4,
  retentionMs: RETENTION_MS,
};
const workers: Child<RedisWorkerMessage>[] = [];
const spawnWorker = async () => {
  const w = spawnChild<RedisWorkerMessage>('./redis-worker-process.ts', config);
  workers.push(w);
  await w.ready;
};
await Promise.all([spawnWorker(), spawnWorker()]);
const store = redisStore({ connection: redis.url, prefix, retentionMs: RETENTION_MS });
const queue = redisQueue({ connection: redis.url, prefix });
const router = bulkEmail({
  ses: ses.client(),
  sendRate: RATE,
  authenticate: () => ({ id: 'soak-tenant' }),
  store,
  queue,
  worker: false,
  maxActiveJobs: 1000,
});
const app = express().use('/bulk-email', router);
const random = prng(6);
const jobs: string[] = [];
const counts = { jobs: 0, recipients: 0, cancels: 0, restarts: 0, kills: 0, errors: 0 };
const samples: { t: number; heapMB: number; redisMB: number; keys: number; links: number; jobKeys: number }[] = [];
const started = Date.now();
const end = started + MINUTES * 60_000;

/** Keys matching `pattern` (SCAN: the soak's own Redis, nothing else on it). */
async function countKeys(pattern: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await probe.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    n += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return n;
}

async function sample() {
  // The SES emulator runs in this process and keeps every email: dropped first so that the heap is the router's.
  await ses.clear();
  gc?.();
  const used = Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1]);
  const s = {
    t: Math.round((Date.now() - started) / 1000),
    heapMB: Number(MB(process.memoryUsage().heapUsed)),
    redisMB: Number(MB(used)),
    keys: await probe.dbsize(),
    links: await countKeys(`{${prefix}}:s:m:*`),
    // Live job keys (SCAN skips expired ones; DBSIZE still counts those until Redis reclaims them).
    jobKeys: await countKeys(`{${prefix}}:s:job:*`),
  };
  samples.push(s);
  console.error(
    `[soak] t=${s.t}s heap ${s.heapMB} MB, redis ${s.redisMB} MB, ${s.keys} keys (${s.links} message links, ${s.jobKeys} live job keys), ${JSON.stringify(counts)}`,
  );
}

async function load() {
  while (Date.now() < end) {
    const n = 20 + Math.floor(random() * 400);
    const res = await request(app)
      .post('/bulk-email')
      .send(bulkBody(n, { domain: 'soak.test' }));
    if (res.status === 202) {
      jobs.push(res.body.data.id);
      counts.jobs++;
      counts.recipients += n;
      if (random() < 0.2) {
        const id = res.body.data.id;
        setTimeout(
          () =>
            void request(app)
              .post(`/bulk-email/${id}/cancel`)
              .then((r) => (r.status === 200 ? counts.cancels++ : undefined)),
          Math.floor(random() * 2000),
        );
      }
    } else counts.errors++;
    await sleep(800 + random() * 800);
  }
}

async function restarts() {
  while (Date.now() < end - 20_000) {
    await sleep(20_000 + random() * 10_000);
    const live = workers.filter((w) => !w.exited());
    const victim = live[Math.floor(random() * live.length)];
    if (counts.restarts % 2 === 0) await stopChild(victim);
    else {
      victim.kill('SIGKILL');
      counts.kills++;
    }
    counts.restarts++;
    await spawnWorker();
  }
}

const sampler = setInterval(() => void sample(), SAMPLE_MS);
await Promise.all([load(), restarts()]);
clearInterval(sampler);
await sample();

// Every job final, then wait out the retention.
const finalAt = Date.now();
for (;;) {
  const statuses = await Promise.all(jobs.map(async (id) => (await store.getJob(id))?.status ?? 'gone'));
  const open = statuses.filter((s) => !['completed', 'canceled', 'failed', 'gone'].includes(s)).length;
  if (open === 0) break;
  if (Date.now() - finalAt > 120_000) throw new Error(`${open} jobs still not final two minutes after the load`);
  await sleep(1000);
}
const drainedS = (Date.now() - finalAt) / 1000;
await sleep(RETENTION_MS + 5000);
const left = await probe.keys('*');
const jobKeysLeft = left.filter((k) => k.includes(':s:job:') || k.includes(':s:idem:'));
// Message links (`…:s:m:<MessageId>`, for SES events) are kept for events.retention (at least 1 h, default 14 d).
const otherKeys = left.filter((k) => !k.includes(':s:m:'));
await sample();

const warm = samples.filter((s) => s.t >= 60 && s.t <= MINUTES * 60);
const half = Math.floor(warm.length / 2);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const crashes = workers.flatMap((w) => w.messages.filter((m) => m.type === 'crash'));
console.log(`
Soak: ${MINUTES} min, ${RATE}/s, retention ${RETENTION_MS / 1000} s — npm run bench -- soak --minutes ${MINUTES}
load: ${JSON.stringify(counts)}; every job final ${drainedS.toFixed(0)} s after the load stopped
heap (web process, after gc${gc ? '' : ' — unavailable'}): first half after warm-up ${avg(warm.slice(0, half).map((s) => s.heapMB)).toFixed(1)} MB, second half ${avg(warm.slice(half).map((s) => s.heapMB)).toFixed(1)} MB
Redis used_memory: first half ${avg(warm.slice(0, half).map((s) => s.redisMB)).toFixed(1)} MB, second half ${avg(warm.slice(half).map((s) => s.redisMB)).toFixed(1)} MB; live job keys ${avg(warm.slice(0, half).map((s) => s.jobKeys)).toFixed(0)} → ${avg(warm.slice(half).map((s) => s.jobKeys)).toFixed(0)} (DBSIZE also counts expired keys not yet reclaimed); message links (kept for events.retention, one per sent message) ${samples[samples.length - 1].links}
after retention: ${left.length} keys in Redis, ${jobKeysLeft.length} of them a job's or an idempotency key; besides the message links: ${otherKeys.join(' ')}
worker crashes reported: ${crashes.length}`);

await router.close();
await Promise.all([store.close(), queue.close()]);
await Promise.all(workers.map(stopChild));
probe.disconnect();
await ses.close();
await redis.stop();
if (jobKeysLeft.length > 0 || crashes.length > 0) process.exitCode = 1;
