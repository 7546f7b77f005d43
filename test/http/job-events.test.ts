// GET /:id/events through the router: progress then done, ids and Last-Event-ID, refusals as envelopes, 429, close.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { type ReadEvent, readSse } from '../helpers/sse-client.js';

let h: HttpApp;
let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
  await h.close();
});

async function listen(app: HttpApp): Promise<string> {
  server = http.createServer(app.app);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/bulk-email`;
}

async function create(entries: number, user = 'a'): Promise<string> {
  const res = await request(h.app).post('/bulk-email').set('x-user', user).send(bulkBody(entries)).expect(202);
  return res.body.data.id as string;
}

describe('GET /:id/events', () => {
  it('streams progress as counts change, then done with the final job, and ends', async () => {
    h = httpApp({ sendRate: 100 });
    const base = await listen(h);
    const id = await create(200);
    const read = await readSse(`${base}/${id}/events`, { 'x-user': 'a' });
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe('text/event-stream');
    expect(read.headers['cache-control']).toContain('no-cache');
    expect(read.ended).toBe(true);
    const progress = read.events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2); // the state when it opened, and at least one change
    const last = read.events.at(-1) as ReadEvent;
    expect(last.event).toBe('done');
    expect(read.events.filter((e) => e.event === 'done')).toHaveLength(1);
    expect(last.data.id).toBe(id);
    expect(last.data.status).toBe('completed');
    expect(last.data.counts.sent).toBe(200);
    expect(last.data.counts.pending).toBe(0);
    // Every event has an id, and consecutive events differ (only changes are sent).
    for (const e of read.events) expect(e.id).toMatch(/^[a-z]+(\.\d+)+$/);
    for (let i = 1; i < read.events.length; i++) expect(read.events[i].id).not.toBe(read.events[i - 1].id);
    // Sent counts only grow.
    const sent = read.events.map((e) => e.data.counts.sent);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
  });

  it('a client that drops and reconnects with Last-Event-ID misses no final state; after the end it gets done at once', async () => {
    h = httpApp({ sendRate: 100 });
    const base = await listen(h);
    const id = await create(200);
    const first = await readSse(`${base}/${id}/events`, { 'x-user': 'a' }, (events) => events.length >= 1);
    expect(first.ended).toBe(false);
    const seen = first.events[0];
    const rest = await readSse(`${base}/${id}/events`, { 'x-user': 'a', 'Last-Event-ID': seen.id });
    expect(rest.events.at(-1)?.event).toBe('done');
    expect(rest.events.at(-1)?.data.counts.sent).toBe(200);
    expect(rest.events.some((e) => e.id === seen.id && e.event === 'progress')).toBe(false);

    const done = rest.events.at(-1) as ReadEvent;
    const again = await readSse(`${base}/${id}/events`, { 'x-user': 'a', 'Last-Event-ID': done.id });
    expect(again.events.map((e) => e.event)).toEqual(['done']);
    expect(again.events[0].data.counts.sent).toBe(200);
    expect(again.ended).toBe(true);
  });

  it("unknown ids and another principal's job → 404 envelope before any stream; no credentials → 401", async () => {
    h = httpApp({ sendRate: 1000 });
    const base = await listen(h);
    const id = await create(2);
    for (const [path, user, status, code] of [
      [`${id}/events`, 'b', 404, 'NOT_FOUND'],
      ['job_01JF00000000000000000000/events', 'a', 404, 'NOT_FOUND'],
      ['x:payload/events', 'a', 404, 'NOT_FOUND'],
      [`${id}/events`, '', 401, 'UNAUTHORIZED'],
    ] as const) {
      const read = await readSse(`${base}/${path}`, user ? { 'x-user': user } : {});
      expect(read.status).toBe(status);
      expect(read.headers['content-type']).toContain('application/json');
      expect(JSON.parse(read.body).error.code).toBe(code);
    }
    const post = await request(h.app).post(`/bulk-email/${id}/events`).set('x-user', 'a').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('one stream too many for a principal → 429 RATE_LIMITED; a stream that closes frees its place', async () => {
    h = httpApp({ sendRate: 1, maxStreamsPerPrincipal: 2 });
    const base = await listen(h);
    const id = await create(200);
    const open = [0, 1].map(() => {
      const controller = new AbortController();
      const ready = new Promise<void>((resolve) => {
        http
          .get(`${base}/${id}/events`, { headers: { 'x-user': 'a' }, signal: controller.signal }, (res) => {
            res.once('data', () => resolve());
            res.on('error', () => {});
          })
          .on('error', () => {});
      });
      return { controller, ready };
    });
    await Promise.all(open.map((o) => o.ready));
    const refused = await readSse(`${base}/${id}/events`, { 'x-user': 'a' });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another principal is not counted against this one (it only gets a 404: not its job).
    expect((await readSse(`${base}/${id}/events`, { 'x-user': 'b' })).status).toBe(404);

    open[0].controller.abort();
    let next = await readSse(`${base}/${id}/events`, { 'x-user': 'a' }, (events) => events.length >= 1);
    for (let i = 0; i < 50 && next.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 20));
      next = await readSse(`${base}/${id}/events`, { 'x-user': 'a' }, (events) => events.length >= 1);
    }
    expect(next.status).toBe(200);
    expect(next.events[0].event).toBe('progress');
    open[1].controller.abort();
  });

  it('a canceled job ends its stream with done (status canceled)', async () => {
    h = httpApp({ sendRate: 10 });
    const base = await listen(h);
    const id = await create(200);
    const reading = readSse(`${base}/${id}/events`, { 'x-user': 'a' });
    await new Promise((r) => setTimeout(r, 200));
    await request(h.app).post(`/bulk-email/${id}/cancel`).set('x-user', 'a').expect(200);
    const read = await reading;
    const done = read.events.at(-1) as ReadEvent;
    expect(done.event).toBe('done');
    expect(done.data.status).toBe('canceled');
    expect(done.data.counts.canceled).toBeGreaterThan(0);
  });

  it('router.close() ends open streams', async () => {
    h = httpApp({ sendRate: 1 });
    const base = await listen(h);
    const id = await create(200);
    let opened!: () => void;
    const first = new Promise<void>((r) => {
      opened = r;
    });
    const reading = readSse(`${base}/${id}/events`, { 'x-user': 'a' }, () => {
      opened();
      return false;
    });
    await first;
    await h.router.close();
    const read = await reading;
    expect(read.ended).toBe(true);
    expect(read.events.every((e) => e.event === 'progress')).toBe(true);
  });
});
