// POST /?send_at=: scheduled sends — stored as scheduled, nothing sent before the time, cancel / pause / dry run; every refusal.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('scheduled send (?send_at=)', () => {
  let h: HttpApp;
  afterEach(async () => {
    await h.close();
  });
  const post = (path: string, user = 'a') => request(h.app).post(`/bulk-email${path}`).set('x-user', user);
  const get = (path: string, user = 'a') => request(h.app).get(`/bulk-email${path}`).set('x-user', user);
  const at = (ms: number) => `?send_at=${encodeURIComponent(iso(ms))}`;

  it('is scheduled until its time, sends nothing before it, then sends every entry once', async () => {
    const callTimes: number[] = [];
    h = httpApp({ sendRate: 1000 });
    h.mock.on((await import('@aws-sdk/client-sesv2')).SendBulkEmailCommand).callsFake((input) => {
      callTimes.push(Date.now());
      h.calls.push(input);
      return {
        BulkEmailEntryResults: input.BulkEmailEntries.map((_: unknown, i: number) => ({
          Status: 'SUCCESS',
          MessageId: `m-${callTimes.length}-${i}`,
        })),
      };
    });
    const sendAt = Date.now() + 1500;
    const created = await post(at(sendAt)).send(bulkBody(60)).expect(202);
    const data = created.body.data;
    expect(data.status).toBe('scheduled');
    expect(data.send_at).toBe(iso(sendAt));
    expect(Date.parse(data.estimated_completion_at)).toBeGreaterThanOrEqual(sendAt);
    const shown = await get(`/${data.id}`).expect(200);
    expect(shown.body.data).toMatchObject({ status: 'scheduled', send_at: iso(sendAt) });
    expect(h.calls).toHaveLength(0);
    await until(async () => (await get(`/${data.id}`)).body.data.status === 'completed');
    expect(Math.min(...callTimes)).toBeGreaterThanOrEqual(sendAt);
    const entries = h.calls.flatMap((c) => c.BulkEmailEntries ?? []);
    expect(entries).toHaveLength(60);
    expect((await get(`/${data.id}`)).body.data.counts).toMatchObject({ sent: 60, pending: 0 });
  });

  it('accepts any offset and shows the time in UTC; a time just past (within 60 s) means now', async () => {
    h = httpApp();
    const res = await post('?send_at=2099-01-01T10:00:00%2B02:00').send(bulkBody(1));
    // 2099 is beyond 30 days: refused, naming the limit
    expect(res.status).toBe(400);
    const soon = new Date(Date.now() + HOUR);
    const local = `${iso(soon.getTime() + 2 * HOUR).slice(0, 19)}+02:00`;
    const ok = await post(`?send_at=${encodeURIComponent(local)}`)
      .send(bulkBody(1))
      .expect(202);
    expect(ok.body.data.status).toBe('scheduled');
    expect(Date.parse(ok.body.data.send_at)).toBe(Math.floor(soon.getTime() / 1000) * 1000);
    const justPast = await post(at(Date.now() - 30_000))
      .set('Prefer', 'wait=10')
      .send(bulkBody(1))
      .expect(200);
    expect(justPast.body.data.status).toBe('completed');
  });

  it('refuses a bad send time with 400 VALIDATION_ERROR and a clear message', async () => {
    h = httpApp({ maxScheduleAhead: '2h' });
    const bad = async (query: string, message: RegExp) => {
      const res = await post(query).send(bulkBody(1)).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[0].path).toBe('/send_at');
      expect(res.body.error.details[0].message).toMatch(message);
    };
    const plain = iso(Date.now() + HOUR).slice(0, 19);
    await bad(`?send_at=${plain}`, /with an offset.*it has no offset/);
    await bad('?send_at=tomorrow', /RFC 3339 time with an offset/);
    await bad('?send_at=1735689600', /RFC 3339 time with an offset/);
    await bad('?send_at=2030-02-30T09:00:00Z', /not a valid date and time/);
    await bad('?send_at=2030-01-01T24:00:00Z', /not a valid date and time/);
    await bad(at(Date.now() - 5 * 60_000), /in the past \(more than 60 seconds ago\)/);
    await bad(at(Date.now() + 3 * HOUR), /more than 2 hours ahead \(maxScheduleAhead\)/);
    await bad(`${at(Date.now() + HOUR)}&send_at=${encodeURIComponent(iso(Date.now() + HOUR))}`, /given once/);
    expect(h.calls).toHaveLength(0);
    expect((await get('')).body.data.jobs).toEqual([]);
  });

  it('the dry run plans a scheduled send: send_at, and the estimate counts from it', async () => {
    h = httpApp({ sendRate: 10 });
    const sendAt = Date.now() + 10 * HOUR;
    const res = await post(`${at(sendAt)}&dry_run=true`)
      .send(bulkBody(100))
      .expect(200);
    expect(res.body.data).toMatchObject({ dry_run: true, send_at: iso(sendAt), recipients: 100 });
    expect(Date.parse(res.body.data.estimated_completion_at)).toBeGreaterThanOrEqual(sendAt + 10_000);
    expect((await get('')).body.data.jobs).toEqual([]);
  });

  it('cancel and pause work on a scheduled job; resume while its time is ahead goes back to scheduled', async () => {
    h = httpApp();
    const a = (
      await post(at(Date.now() + HOUR))
        .send(bulkBody(5))
        .expect(202)
    ).body.data.id;
    const b = (
      await post(at(Date.now() + HOUR))
        .send(bulkBody(5))
        .expect(202)
    ).body.data.id;
    const canceled = await post(`/${a}/cancel`).expect(200);
    expect(canceled.body.data).toMatchObject({ status: 'canceled', counts: { canceled: 5, pending: 0 } });
    const paused = await post(`/${b}/pause`).expect(200);
    expect(paused.body.data.status).toBe('paused');
    const resumed = await post(`/${b}/resume`).expect(200);
    expect(resumed.body.data.status).toBe('scheduled');
    const list = await get('?status=scheduled').expect(200);
    expect(list.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([b]);
    expect(h.calls).toHaveLength(0);
  });

  it('a paused scheduled job whose time passed resumes straight to sending', async () => {
    h = httpApp({ sendRate: 1000 });
    const id = (
      await post(at(Date.now() + 400))
        .send(bulkBody(3))
        .expect(202)
    ).body.data.id;
    await post(`/${id}/pause`).expect(200);
    await sleep(700);
    expect(h.calls).toHaveLength(0);
    const resumed = await post(`/${id}/resume`).expect(200);
    expect(resumed.body.data.status).toBe('queued');
    await until(async () => (await get(`/${id}`)).body.data.status === 'completed');
    expect(h.calls.flatMap((c) => c.BulkEmailEntries ?? [])).toHaveLength(3);
  });

  it('Idempotency-Key: the same send time replays the job, another send time is a different request', async () => {
    h = httpApp();
    const first = at(Date.now() + HOUR);
    const created = await post(first).set('Idempotency-Key', 'k1').send(bulkBody(2)).expect(202);
    const replay = await post(first).set('Idempotency-Key', 'k1').send(bulkBody(2)).expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.data.id).toBe(created.body.data.id);
    const other = await post(at(Date.now() + 2 * HOUR))
      .set('Idempotency-Key', 'k1')
      .send(bulkBody(2))
      .expect(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await get('')).body.data.jobs).toHaveLength(1);
  });

  it('maxScheduleAhead takes milliseconds or a duration, and says how to fix a bad one', () => {
    const base = { authenticate: () => ({ id: 'a' }), sendRate: 1 };
    for (const bad of ['soon', 0, -1, '400d', 500]) {
      expect(() => bulkEmail({ ...base, maxScheduleAhead: bad as string })).toThrow(/maxScheduleAhead.*'30d'/);
    }
    for (const good of ['72h', 86_400_000]) {
      const router = bulkEmail({ ...base, maxScheduleAhead: good });
      void router.close();
    }
  });
});
