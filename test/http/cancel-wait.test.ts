// Cancel stops what SES has not been handed; Prefer: wait answers 200 when done in time, else 202 with the job as it is.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

describe('cancel and Prefer: wait', () => {
  let h: HttpApp;
  afterEach(async () => {
    await h.close();
  });

  it('cancel: entries not yet handed to SES end CANCELED, the rest are recorded, and nothing more is sent', async () => {
    h = httpApp({ sendRate: 20 });
    const created = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(200)).expect(202);
    const id = created.body.data.id;
    await new Promise((r) => setTimeout(r, 300));
    const res = await request(h.app).post(`/bulk-email/${id}/cancel`).set('x-user', 'a').expect(200);
    expect(res.body.data.status).toBe('canceled');
    expect(res.body.data.counts.canceled).toBeGreaterThan(100);
    await new Promise((r) => setTimeout(r, 500));
    const sentEntries = h.calls.reduce((n, c) => n + (c.BulkEmailEntries?.length ?? 0), 0);
    const after = await request(h.app).get(`/bulk-email/${id}`).set('x-user', 'a').expect(200);
    expect(after.body.data.counts.sent).toBe(sentEntries);
    expect(after.body.data.counts.sent + after.body.data.counts.canceled).toBe(200);
    expect(after.body.data.counts.pending).toBe(0);
    const again = await request(h.app).post(`/bulk-email/${id}/cancel`).set('x-user', 'a').expect(409);
    expect(again.body.error.code).toBe('NOT_CANCELABLE');
  });

  it('a finished job is NOT_CANCELABLE', async () => {
    h = httpApp();
    const done = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Prefer', 'wait=10')
      .send(bulkBody(2))
      .expect(200);
    expect(done.body.data.status).toBe('completed');
    const res = await request(h.app).post(`/bulk-email/${done.body.data.id}/cancel`).set('x-user', 'a').expect(409);
    expect(res.body.error.code).toBe('NOT_CANCELABLE');
  });

  it('Prefer: wait that runs out answers 202 with the job as it is then (status, counts), not as it was accepted', async () => {
    h = httpApp({ sendRate: 5 });
    const started = Date.now();
    // Two full calls of 50 at 5/s: the second leaves 10 s after the first.
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Prefer', 'wait=1')
      .send(bulkBody(100))
      .expect(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.headers['preference-applied']).toBe('wait=1');
    // issue 11, trap 3: this answered `status: "queued"` and no counts while entries were already sent
    const data = res.body.data;
    expect(data.status).toBe('sending');
    expect(data.counts.sent).toBe(50);
    expect(data.counts.pending).toBe(50);
    expect(Date.parse(data.updated_at)).toBeGreaterThan(Date.parse(data.created_at));
    const now = (await request(h.app).get(`/bulk-email/${data.id}`).set('x-user', 'a').expect(200)).body.data;
    expect(now.counts.sent).toBeGreaterThanOrEqual(data.counts.sent);
    expect(now.counts.sent - data.counts.sent).toBeLessThanOrEqual(5); // read at the deadline, not earlier
  });
});
