// The accept path over real Redis: ids that could not have been issued never reach a key (no WRONGTYPE 500), and the
// per-principal limits hold across two routers sharing the store.
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { parkedQueue } from '../helpers/parked-queue.js';
import { REDIS_URL, deleteKeys, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix('accept');

describe.skipIf(!REDIS_URL)('accept path on redisStore', () => {
  const apps: HttpApp[] = [];
  const router = (options: Parameters<typeof httpApp>[0] = {}) => {
    const store = redisStore({ connection: REDIS_URL as string, prefix });
    const h = httpApp({ store, queue: parkedQueue(), worker: false, ...options });
    apps.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of apps) await h.close();
    await deleteKeys(prefix);
  });

  it('GET /<id>:payload and other ids that were never issued → 404, not a Redis WRONGTYPE 500', async () => {
    const h = router();
    const id = (await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(2)).expect(202)).body.data
      .id as string;
    for (const suffix of [':payload', ':results', ':waiting']) {
      const res = await request(h.app).get(`/bulk-email/${id}${suffix}`).set('x-user', 'a');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    await request(h.app).get(`/bulk-email/${id}`).set('x-user', 'a').expect(200);
  });

  it('maxActiveJobs holds across two routers posting at once: exactly the limit gets in, others still served', async () => {
    const principal = `p-${prefix}`;
    const a = router({ maxActiveJobs: 4 });
    const b = router({ maxActiveJobs: 4 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request((i % 2 ? a : b).app)
          .post('/bulk-email')
          .set('x-user', principal)
          .send(bulkBody(1)),
      ),
    );
    expect(answers.filter((r) => r.status === 202)).toHaveLength(4);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(8);
    expect(refused.every((r) => r.body.error.code === 'RATE_LIMITED' && Number(r.headers['retry-after']) > 0)).toBe(
      true,
    );
    await request(a.app).post('/bulk-email').set('x-user', `other-${prefix}`).send(bulkBody(1)).expect(202);
  });

  it('maxQueuedRecipients counts the recipients of unfinished jobs, and a cancel gives them back', async () => {
    const principal = `q-${prefix}`;
    const h = router({ maxQueuedRecipients: 10 });
    const first = await request(h.app).post('/bulk-email').set('x-user', principal).send(bulkBody(6)).expect(202);
    const over = await request(h.app).post('/bulk-email').set('x-user', principal).send(bulkBody(5)).expect(429);
    expect(over.body.error.message).toMatch(/already hold 6 recipients and this one has 5 \(maxQueuedRecipients 10\)/);
    await request(h.app).post(`/bulk-email/${first.body.data.id}/cancel`).set('x-user', principal).expect(200);
    await request(h.app).post('/bulk-email').set('x-user', principal).send(bulkBody(5)).expect(202);
  });
});
