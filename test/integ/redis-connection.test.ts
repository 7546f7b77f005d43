// Every accepted shape of `connection` reaches the server it names; anything else is a TypeError at build time.
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisQueue, redisStore } from '../../src/redis.js';
import type { RedisConnection } from '../../src/redis.js';
import type { JobRecord } from '../../src/types.js';
import { type PrivateCluster, type PrivateRedis, startPrivateCluster, startPrivateRedis } from './private-redis.js';
import { recorder, until, work } from './queue-helpers.js';
import { REDIS_URL } from './redis-helpers.js';

const job = (id: string): JobRecord => ({
  id,
  principalId: 'p',
  status: 'queued',
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  entries: 1,
  recipients: 1,
  counts: { sent: 0, failed: 0, pending: 1, canceled: 0, suppressed: 0, unknown: 0 },
});

describe('connection shapes refused at build time', () => {
  const unusable: [string, unknown][] = [
    ['an empty options object (it names no server)', {}],
    ['options without host, port, path or sentinels', { db: 2, password: 'x' }],
    ['a URL of another scheme', 'http://127.0.0.1:6379'],
    ['host:port without a scheme', '127.0.0.1:6379'],
    ['a number', 6379],
    ['null', null],
    ['another library’s client', { options: { url: 'redis://x' }, duplicate() {}, sendCommand() {} }],
    [
      'an instance of some class',
      new (class Client {
        host = 'x';
      })(),
    ],
  ];
  it.each(unusable)('%s', (_what, connection) => {
    for (const build of [redisStore, redisQueue]) {
      expect(() => build({ connection: connection as RedisConnection })).toThrow(TypeError);
      expect(() => build({ connection: connection as RedisConnection })).toThrow(/redis:\/\/ or rediss:\/\/ URL/);
    }
  });

  it('is not how a Cluster is met: the store and the queue accept one (redis-cluster.test.ts runs them on it)', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    for (const build of [redisStore, redisQueue]) {
      const part = build({ connection: cluster });
      await part.close();
    }
    cluster.disconnect();
  });
});

// A private server with its own data: a shape that fell back to 127.0.0.1:6379 would not see it.
describe.skipIf(!REDIS_URL)('connection shapes reach the server they name', () => {
  let redis: PrivateRedis;
  const instances: Redis[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis();
    const seed = redisStore({ connection: redis.url });
    await seed.createJob(job('marker'), { content: {} } as never, []);
    await seed.close();
    const producer = redisQueue({ connection: redis.url, prefix: 'shapes' });
    await producer.add(work('queued', 'marker-principal', 1, 3));
    await producer.close();
  });
  afterAll(async () => {
    for (const i of instances) i.disconnect();
    await redis?.stop();
  });

  const shapes: [string, () => RedisConnection][] = [
    ['a redis:// URL', () => redis.url],
    ['ioredis options', () => ({ host: '127.0.0.1', port: redis.port })],
    ['options with only a port', () => ({ port: redis.port })],
    [
      'a Redis instance',
      () => {
        const instance = new Redis(redis.url);
        instances.push(instance);
        return instance;
      },
    ],
  ];
  it.each(shapes)('%s', async (_what, make) => {
    const store = redisStore({ connection: make() });
    const queue = redisQueue({ connection: make(), prefix: 'shapes' });
    try {
      expect((await store.getJob('marker'))?.id).toBe('marker');
      expect((await queue.stats()).map((s) => s.principalId)).toEqual(['marker-principal']);
    } finally {
      await Promise.all([store.close(), queue.close()]);
    }
  });

  it('leaves an app’s Redis instance open and untouched', async () => {
    const instance = new Redis(redis.url);
    const store = redisStore({ connection: instance });
    await store.getJob('marker');
    await store.close();
    expect(await instance.get('never-set')).toBeNull();
    expect(instance.status).toBe('ready');
    instance.disconnect();
  });
});

describe.skipIf(!REDIS_URL)('redisQueue on a Redis Cluster (three masters started by the test)', () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('takes, paces and settles with every key in one slot; the cluster holds the keys', async () => {
    const app = new Cluster(cluster.nodes);
    const producer = redisQueue({ connection: app, prefix: 'clustered' });
    const consumer = redisQueue({ connection: app, prefix: 'clustered' });
    const { seen, consumer: record } = recorder(async (call) => {
      if (call.task.chunk === 0 && seen.length === 1) {
        return { kind: 'again', entries: call.task.entries, notBefore: Date.now() + 200, reason: 'retry' };
      }
      return { kind: 'done' };
    });
    try {
      consumer.setRate(500);
      await consumer.start(record('c'), { concurrency: 2 });
      await producer.add(work('cj', 'A', 4, 20));
      await until(() => seen.length === 5, 10_000, 'five calls on the cluster');
      expect(seen.map((s) => s.chunk).sort()).toEqual([0, 0, 1, 2, 3]);
      // every key of the queue on one master (one slot), and that is where they are
      const perNode = await Promise.all(app.nodes('master').map((n) => n.keys('{clustered}:*')));
      expect(perNode.filter((keys) => keys.length > 0)).toHaveLength(1);
      expect(perNode.flat()).toContain('{clustered}:state');
    } finally {
      await Promise.all([producer.close(), consumer.close()]);
      app.disconnect();
    }
  }, 60_000);
});
