// Idempotency-Key on POST /: replay, reuse with another body, in flight, invalid keys, principal scope.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

describe('Idempotency-Key', () => {
  let h: HttpApp;
  afterEach(async () => {
    await h.close();
  });

  it('replays the first response for the same key and body, without a second job or send', async () => {
    h = httpApp();
    const body = bulkBody(2);
    const first = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-1')
      .send(body)
      .expect(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with its keys in another order is the same request.
    const reordered = {
      BulkEmailEntries: body.BulkEmailEntries,
      DefaultContent: body.DefaultContent,
      FromEmailAddress: body.FromEmailAddress,
    };
    const second = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-1')
      .send(reordered)
      .expect(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    await new Promise((r) => setTimeout(r, 200));
    const sent = h.calls.reduce((n, c) => n + (c.BulkEmailEntries?.length ?? 0), 0);
    expect(sent).toBe(2);
  });

  it('422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    h = httpApp();
    await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-2')
      .send(bulkBody(2))
      .expect(202);
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-2')
      .send(bulkBody(3))
      .expect(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('keys are scoped to the principal', async () => {
    h = httpApp();
    const a = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'same')
      .send(bulkBody(1))
      .expect(202);
    const b = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'b')
      .set('Idempotency-Key', 'same')
      .send(bulkBody(1))
      .expect(202);
    expect(b.body.data.id).not.toBe(a.body.data.id);
  });

  it('409 IDEMPOTENCY_IN_FLIGHT with Retry-After while the first is still handled; one job for two concurrent requests', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    h = httpApp({ validate: () => gate });
    const first = request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-3')
      .send(bulkBody(1))
      .then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    const second = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-3')
      .send(bulkBody(1));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    release();
    expect((await first).status).toBe(202);
  });

  it('a request that created no job stores nothing, so it can be retried', async () => {
    let refuse = true;
    h = httpApp({ authorize: () => !refuse });
    await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-4')
      .send(bulkBody(1))
      .expect(403);
    const bad = { ...bulkBody(1), FromEmailAdress: 'typo@example.com' };
    await request(h.app).post('/bulk-email').set('x-user', 'a').set('Idempotency-Key', 'k-4').send(bad).expect(400);
    refuse = false;
    await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', 'k-4')
      .send(bulkBody(1))
      .expect(202);
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(256)],
    ['not visible ASCII', 'key with spaces'],
  ])('400 IDEMPOTENCY_KEY_INVALID for a key that is %s', async (_why, key) => {
    h = httpApp();
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Idempotency-Key', key)
      .send(bulkBody(1))
      .expect(400);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_INVALID');
    expect(h.calls).toHaveLength(0);
  });

  it('400 IDEMPOTENCY_KEY_INVALID for a repeated header', async () => {
    h = httpApp();
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Content-Type', 'application/json')
      .set('Idempotency-Key', ['a', 'b'] as unknown as string)
      .send(JSON.stringify(bulkBody(1)))
      .expect(400);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_INVALID');
  });
});
