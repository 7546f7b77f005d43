// GET /: the caller's jobs, newest first, with ?status=, ?limit= and ?cursor=; every refusal.
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { parkedQueue } from '../helpers/parked-queue.js';

describe('GET / (the job list)', () => {
  let h: HttpApp;
  beforeEach(() => {
    // Nothing consumes the queue: jobs stay queued unless paused or canceled.
    h = httpApp({ queue: parkedQueue(), worker: false });
  });
  afterEach(async () => {
    await h.close();
  });

  const create = async (user: string, n = 1) => {
    const res = await request(h.app).post('/bulk-email').set('x-user', user).send(bulkBody(n)).expect(202);
    await new Promise((r) => setTimeout(r, 2)); // distinct creation milliseconds are not needed, but usual
    return res.body.data.id as string;
  };
  const list = (user: string, query = '') => request(h.app).get(`/bulk-email${query}`).set('x-user', user);

  it("lists only the caller's jobs, newest first, as job views", async () => {
    const mine = [await create('a', 1), await create('a', 2), await create('a', 3)];
    const theirs = await create('b');
    const res = await list('a').expect(200);
    expect(res.body.success).toBe(true);
    expect(res.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([...mine].reverse());
    expect(res.body.data.next_cursor).toBeNull();
    expect(res.body.data.jobs[0]).toMatchObject({ id: mine[2], status: 'queued', entries: 3, recipients: 3 });
    expect(res.body.data.jobs[0].counts).toMatchObject({ pending: 3, sent: 0 });
    const other = await list('b').expect(200);
    expect(other.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([theirs]);
    expect((await list('nobody').expect(200)).body.data).toEqual({ jobs: [], next_cursor: null });
  });

  it('pages with ?limit= and ?cursor= through every job exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create('a'));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await list('a', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...res.body.data.jobs.map((j: { id: string }) => j.id));
      cursor = res.body.data.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    // another principal's cursor names a place, never a job: it shows nothing of this list
    const first = await list('a', '?limit=1').expect(200);
    const theirs = await list('b', `?cursor=${first.body.data.next_cursor}`).expect(200);
    expect(theirs.body.data.jobs).toEqual([]);
  });

  it('filters by ?status= (a comma list, any case)', async () => {
    const [a, b, c] = [await create('a'), await create('a'), await create('a')];
    await request(h.app).post(`/bulk-email/${a}/cancel`).set('x-user', 'a').expect(200);
    await request(h.app).post(`/bulk-email/${c}/pause`).set('x-user', 'a').expect(200);
    const ids = async (q: string) =>
      (await list('a', q).expect(200)).body.data.jobs.map((j: { id: string; status: string }) => `${j.status}:${j.id}`);
    expect(await ids('?status=canceled')).toEqual([`canceled:${a}`]);
    expect(await ids('?status=paused,Canceled')).toEqual([`paused:${c}`, `canceled:${a}`]);
    expect(await ids('?status=queued&status=paused')).toEqual([`paused:${c}`, `queued:${b}`]);
    expect(await ids('?status=completed')).toEqual([]);
  });

  it('refuses a bad status, limit or cursor with 400 VALIDATION_ERROR naming the parameter', async () => {
    const bad = async (q: string, path: string, message: RegExp) => {
      const res = await list('a', q).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[0].path).toBe(path);
      expect(res.body.error.details[0].message).toMatch(message);
    };
    await bad('?status=done', '/status', /"done" is not one of scheduled, queued, sending, paused/);
    await bad('?status=queued,', '/status', /not one of/);
    await bad('?limit=0', '/limit', /from 1 to 100/);
    await bad('?limit=101', '/limit', /from 1 to 100/);
    await bad('?limit=ten', '/limit', /from 1 to 100/);
    await bad('?cursor=nope', '/cursor', /not one this API returned/);
    await bad(`?cursor=${Buffer.from('i:3').toString('base64url')}`, '/cursor', /not one this API returned/);
    await bad(`?cursor=${Buffer.from('j:1:../x').toString('base64url')}`, '/cursor', /not one this API returned/);
  });

  it('needs credentials (401) and answers 405 with Allow for other methods', async () => {
    const anonymous = await request(h.app).get('/bulk-email').expect(401);
    expect(anonymous.body.error.code).toBe('UNAUTHORIZED');
    const put = await request(h.app).put('/bulk-email').set('x-user', 'a').expect(405);
    expect(put.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(put.headers.allow).toBe('GET, HEAD, POST');
  });
});
