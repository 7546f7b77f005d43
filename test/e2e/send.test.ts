// End to end: HTTP in, the real SES emulator out; counts what the emulator stored.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';

describe('sending through the SES emulator', () => {
  let ses: SesEmulator;
  let app: express.Express;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ses = await startSesEmulator();
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 500,
      authenticate: (req) => {
        const who = req.get('x-user');
        return who ? { id: who } : null;
      },
    });
    app = express();
    app.use('/bulk-email', router);
    close = () => router.close();
  });
  afterAll(async () => {
    await close();
    await ses.close();
  });
  beforeEach(async () => {
    await ses.clear();
  });

  it('sends every entry once, personalised, and reports each result', async () => {
    const body = bulkBody(120, { cc: true });
    const res = await request(app)
      .post('/bulk-email')
      .set('x-user', 'alice')
      .set('Prefer', 'wait=30')
      .send(body)
      .expect('Content-Type', /application\/json/);
    expect(res.status).toBe(200);
    expect(res.headers['preference-applied']).toBe('wait=30');
    expect(res.body.success).toBe(true);
    const job = res.body.data;
    expect(job).toMatchObject({ status: 'completed', entries: 120, recipients: 240 });
    expect(job.counts).toMatchObject({ sent: 120, failed: 0, pending: 0, canceled: 0 });
    expect(Date.parse(job.completed_at)).toBeGreaterThanOrEqual(Date.parse(job.created_at));

    const emails = await ses.emails();
    expect(emails).toHaveLength(120);
    const byTo = new Map(emails.map((e) => [e.destination.to[0], e]));
    for (let i = 0; i < 120; i++) {
      const email = byTo.get(`user${i}@example.com`);
      expect(email?.subject).toBe(`Hello User ${i}`);
      expect(email?.body.text).toBe(`Hi User ${i}, your code is C${i}.`);
      expect(email?.destination.cc).toEqual([`cc${i}@example.com`]);
      expect(email?.from).toBe('Sender <sender@example.com>');
    }

    const results: { index: number; status: string; message_id: string; attempts: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: request.Response = await request(app)
        .get(`/bulk-email/${job.id}/results`)
        .query({ limit: 50, ...(cursor ? { cursor } : {}) })
        .set('x-user', 'alice')
        .expect(200);
      results.push(...page.body.data.results);
      cursor = page.body.data.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    const ids = new Set(emails.map((e) => e.messageId));
    for (const r of results) {
      expect(r.status).toBe('SUCCESS');
      expect(r.attempts).toBe(1);
      expect(ids.has(r.message_id)).toBe(true);
    }
    expect(new Set(results.map((r) => r.message_id)).size).toBe(120);
  });

  it('answers 202 at once, and the job is readable by its owner only', async () => {
    const res = await request(app).post('/bulk-email').set('x-user', 'bob').send(bulkBody(3)).expect(202);
    expect(res.body.data).toMatchObject({ status: 'queued', entries: 3, recipients: 3 });
    expect(typeof res.body.data.id).toBe('string');
    expect(new Date(res.body.data.created_at).toISOString()).toBe(res.body.data.created_at);
    const other = await request(app).get(`/bulk-email/${res.body.data.id}`).set('x-user', 'mallory').expect(404);
    expect(other.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    await request(app).get(`/bulk-email/${res.body.data.id}/results`).set('x-user', 'mallory').expect(404);
    await request(app).post(`/bulk-email/${res.body.data.id}/cancel`).set('x-user', 'mallory').expect(404);
    const mine = await request(app).get(`/bulk-email/${res.body.data.id}`).set('x-user', 'bob').expect(200);
    expect(mine.body.data.id).toBe(res.body.data.id);
  });

  it("decodes base64 attachments before the SDK encodes them, through the app's own client middleware", async () => {
    const client = ses.client();
    const wire: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        wire.push(typeof body === 'string' ? body : Buffer.from(body as Uint8Array).toString());
        return next(args);
      },
      { step: 'finalizeRequest', name: 'captureBody' },
    );
    const router = bulkEmail({ ses: client, sendRate: 100, authenticate: () => ({ id: 'carol' }) });
    const local = express().use('/bulk-email', router);
    const body = bulkBody(1);
    body.DefaultContent.Template!.Attachments = [
      { FileName: 'hello.txt', RawContent: Buffer.from('hello').toString('base64'), ContentType: 'text/plain' },
    ];
    const res = await request(local).post('/bulk-email').set('Prefer', 'wait=10').send(body).expect(200);
    await router.close();
    expect(res.body.data.counts.sent).toBe(1);
    expect(wire).toHaveLength(1);
    const sent = JSON.parse(wire[0]);
    expect(sent.DefaultContent.Template.Attachments[0].RawContent).toBe('aGVsbG8=');
    expect(await ses.emails()).toHaveLength(1);
  });
});
