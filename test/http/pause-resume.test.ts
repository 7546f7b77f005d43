// POST /:id/pause and /:id/resume: nothing handed to SES while paused, resumed exactly where it stopped; every refusal.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/stores/memory-store.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { parkedQueue } from '../helpers/parked-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every entry index SES was handed (from the mocked calls: user<i>@example.com). */
function sentIndexes(h: HttpApp): number[] {
  const out: number[] = [];
  for (const call of h.calls) {
    for (const entry of call.BulkEmailEntries as { Destination: { ToAddresses: string[] } }[]) {
      out.push(Number(/^user(\d+)@/.exec(entry.Destination.ToAddresses[0])?.[1]));
    }
  }
  return out;
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('pause and resume', () => {
  let h: HttpApp;
  afterEach(async () => {
    await h.close();
  });
  const post = (path: string, user = 'a') => request(h.app).post(`/bulk-email${path}`).set('x-user', user);
  const get = (path: string, user = 'a') => request(h.app).get(`/bulk-email${path}`).set('x-user', user);

  it('stops handing entries to SES while paused, and resumes where it stopped: each entry sent exactly once', async () => {
    h = httpApp({ sendRate: 100 });
    const created = await post('').send(bulkBody(300)).expect(202);
    const id = created.body.data.id;
    await until(async () => h.calls.length >= 1);
    const paused = await post(`/${id}/pause`).expect(200);
    expect(paused.body.data).toMatchObject({ id, status: 'paused', paused_reason: 'USER' });
    // a call already claimed may still finish; after that, nothing more leaves
    await sleep(300);
    const settled = h.calls.length;
    await sleep(1200); // at 100/s, 120 more entries would have left by now
    expect(h.calls.length).toBe(settled);
    const during = await get(`/${id}`).expect(200);
    expect(during.body.data.status).toBe('paused');
    expect(during.body.data.counts.pending).toBeGreaterThan(0);
    expect(during.body.data.counts.sent).toBe(sentIndexes(h).length);

    const resumed = await post(`/${id}/resume`).expect(200);
    expect(resumed.body.data.status).toBe('sending');
    expect(resumed.body.data.paused_reason).toBeUndefined();
    await until(async () => (await get(`/${id}`)).body.data.status === 'completed');
    const indexes = sentIndexes(h);
    expect(indexes).toHaveLength(300);
    expect(new Set(indexes).size).toBe(300);
    const done = await get(`/${id}`).expect(200);
    expect(done.body.data.counts).toMatchObject({ sent: 300, pending: 0, failed: 0 });
  });

  it('a job never started goes back to queued; pause and resume appear in the list filter', async () => {
    h = httpApp({ queue: parkedQueue(), worker: false });
    const id = (await post('').send(bulkBody(3)).expect(202)).body.data.id;
    await post(`/${id}/pause`).expect(200);
    const list = await get('?status=paused').expect(200);
    expect(list.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([id]);
    const back = await post(`/${id}/resume`).expect(200);
    expect(back.body.data.status).toBe('queued');
  });

  it('refuses with 409 what cannot be paused or resumed, 404 for others, 401 without credentials, 405', async () => {
    const store = memoryStore();
    h = httpApp({ store, queue: parkedQueue(), worker: false });
    const id = (await post('').send(bulkBody(3)).expect(202)).body.data.id;

    const notPaused = await post(`/${id}/resume`).expect(409);
    expect(notPaused.body.error.code).toBe('NOT_RESUMABLE');
    expect(notPaused.body.error.message).toMatch(/is not paused \(it is queued\)/);

    await post(`/${id}/pause`).expect(200);
    const twice = await post(`/${id}/pause`).expect(409);
    expect(twice.body.error.code).toBe('NOT_PAUSABLE');
    expect(twice.body.error.message).toMatch(/already paused/);

    // another principal learns nothing: 404, and the job is untouched
    expect((await post(`/${id}/resume`, 'b').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await post(`/${id}/pause`, 'b').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await get(`/${id}`)).body.data.status).toBe('paused');
    expect((await post('/not-a-job/pause').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await request(h.app).post(`/bulk-email/${id}/resume`).expect(401)).body.error.code).toBe('UNAUTHORIZED');
    const wrong = await get(`/${id}/pause`).expect(405);
    expect(wrong.headers.allow).toBe('POST');
    expect((await get(`/${id}/resume`).expect(405)).headers.allow).toBe('POST');

    await post(`/${id}/cancel`).expect(200);
    const canceled = await post(`/${id}/pause`).expect(409);
    expect(canceled.body.error.code).toBe('NOT_PAUSABLE');
    expect(canceled.body.error.message).toMatch(/canceled/);
    expect((await post(`/${id}/resume`).expect(409)).body.error.code).toBe('NOT_RESUMABLE');

    // paused by the reputation guard: only the operator (router.resumePrincipal) lifts it
    const guarded = (await post('').send(bulkBody(2)).expect(202)).body.data.id;
    await store.setPaused(guarded, true, 'REPUTATION');
    const refused = await post(`/${guarded}/resume`).expect(409);
    expect(refused.body.error.code).toBe('NOT_RESUMABLE');
    expect(refused.body.error.message).toMatch(/reputation guard/);
    expect((await post(`/${guarded}/pause`).expect(409)).body.error.code).toBe('NOT_PAUSABLE');
  });

  it('a finished job is NOT_PAUSABLE', async () => {
    h = httpApp();
    const done = await post('').set('Prefer', 'wait=10').send(bulkBody(2)).expect(200);
    const res = await post(`/${done.body.data.id}/pause`).expect(409);
    expect(res.body.error.code).toBe('NOT_PAUSABLE');
    expect(res.body.error.message).toMatch(/finished \(completed\)/);
  });
});
