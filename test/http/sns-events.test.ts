// POST /events/sns over HTTP: every SNS case, plus body limits, media types, replays and subscription confirmations.
import express from 'express';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { snsEventsHandler } from '../../src/events/sns-handler.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { silentLogger } from '../../src/logger.js';
import { SES_BOUNCE, SNS_CASES, type SnsHarness, snsHarness } from '../helpers/sns-cases.js';
import {
  TOPIC_ARN,
  type TestAuthority,
  confirmation,
  createTestAuthority,
  notification,
  snsBody,
} from '../helpers/sns-signer.js';

let auth: TestAuthority;
beforeAll(() => {
  auth = createTestAuthority();
});

/** The handler mounted as the router will mount it: one line, then the router's error boundary. */
function appFor(h: SnsHarness, bodyLimit?: number) {
  const app = express();
  app.post('/standalone/events/sns', snsEventsHandler(h.receiver, { bodyLimit }));
  app.use(errorHandler(silentLogger));
  return app;
}

/** Posts as SNS does: text/plain; charset=UTF-8 with the message-type header. */
function post(app: express.Express, body: string | Buffer, type = 'Notification') {
  return request(app)
    .post('/standalone/events/sns')
    .set('Content-Type', 'text/plain; charset=UTF-8')
    .set('x-amz-sns-message-type', type)
    .set('User-Agent', 'Amazon Simple Notification Service Agent')
    .send(body);
}

describe('POST /events/sns: every case', () => {
  for (const c of SNS_CASES) {
    it(c.name, async () => {
      const h = snsHarness(auth);
      const res = await post(appFor(h), c.body(h, auth));
      expect(res.status).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.success).toBe(c.status === 200);
      if (c.code) expect(res.body.error.code).toBe(c.code);
      if (c.status === 403) {
        // the caller learns only that the message was refused, never which check failed
        expect(res.body.error).toEqual({ code: 'INVALID_SIGNATURE', message: 'The SNS message could not be verified' });
      }
      if (c.status === 503) expect(res.headers['retry-after']).toBe('5');
      expect(h.ingested).toHaveLength(c.ingested);
      if (c.fetched !== undefined) expect(h.fetched).toHaveLength(c.fetched);
    });
  }
});

describe('POST /events/sns', () => {
  it('answers 200 with the envelope { type, message_id, duplicate } and ingests the SES event', async () => {
    const h = snsHarness(auth);
    const fields = h.sign(notification(SES_BOUNCE, h.clock.now()));
    const res = await post(appFor(h), snsBody(fields));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: { type: 'Notification', message_id: fields.MessageId, duplicate: false },
    });
    expect(h.ingested).toEqual([SES_BOUNCE]);
  });

  it('ignores a replayed MessageId (200, duplicate: true, ingested once)', async () => {
    const h = snsHarness(auth);
    const app = appFor(h);
    const body = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    expect((await post(app, body)).body.data.duplicate).toBe(false);
    expect((await post(app, body)).body.data.duplicate).toBe(true);
    expect(h.ingested).toHaveLength(1);
  });

  it('answers 413 to a body over the limit, without verifying or ingesting', async () => {
    const h = snsHarness(auth);
    const body = snsBody(h.sign(notification({ ...SES_BOUNCE, padding: 'x'.repeat(5000) }, h.clock.now())));
    const res = await post(appFor(h, 4096), body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(h.fetched).toEqual([]);
    expect(h.ingested).toEqual([]);
  });

  it('reads at most 1 MiB by default', async () => {
    const h = snsHarness(auth);
    const res = await post(appFor(h), Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect(res.status).toBe(413);
  });

  it('accepts application/json (a DeliveryPolicy may set it) and a missing Content-Type', async () => {
    const h = snsHarness(auth);
    const app = appFor(h);
    const json = await request(app)
      .post('/standalone/events/sns')
      .set('Content-Type', 'application/json')
      .send(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))));
    expect(json.status).toBe(200);
    const bare = await request(app)
      .post('/standalone/events/sns')
      .unset('Content-Type')
      .send(Buffer.from(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())))));
    expect(bare.status).toBe(200);
    expect(h.ingested).toHaveLength(2);
  });

  it('answers 415 to other media types and charsets', async () => {
    const h = snsHarness(auth);
    const app = appFor(h);
    const body = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    for (const type of ['application/x-www-form-urlencoded', 'text/html', 'text/plain; charset=iso-8859-1']) {
      const res = await request(app).post('/standalone/events/sns').set('Content-Type', type).send(body);
      expect(res.status, type).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(h.ingested).toEqual([]);
  });

  it('uses a body the app already parsed (express.text() or express.json() before the router)', async () => {
    const h = snsHarness(auth);
    const app = express();
    app.use(express.text({ type: 'text/plain' }));
    app.post('/events/sns', snsEventsHandler(h.receiver));
    app.use(errorHandler(silentLogger));
    const res = await request(app)
      .post('/events/sns')
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .send(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))));
    expect(res.status).toBe(200);
    expect(h.ingested).toEqual([SES_BOUNCE]);
  });

  it('answers a failing ingest with a 5xx (SNS retries) and processes the retry', async () => {
    let fail = true;
    const h = snsHarness(auth, {
      ingest: async () => {
        if (fail) throw new Error('store unreachable at 10.0.0.7:6379');
      },
    });
    const app = appFor(h);
    const body = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    const first = await post(app, body);
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.body)).not.toContain('10.0.0.7');
    fail = false;
    const retry = await post(app, body);
    expect(retry.status).toBe(200);
    expect(retry.body.data.duplicate).toBe(false);
  });

  it('acknowledges a listed topic’s SubscriptionConfirmation and confirms it once, in the background', async () => {
    const h = snsHarness(auth);
    const app = appFor(h);
    const fields = h.sign(confirmation(h.clock.now()));
    for (let i = 0; i < 3; i++) {
      const res = await post(app, snsBody(fields), 'SubscriptionConfirmation');
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ type: 'SubscriptionConfirmation', duplicate: i > 0 });
    }
    await h.receiver.close();
    expect(h.confirmed).toEqual([fields.SubscribeURL]);
  });

  it('answers 403 to an unlisted topic’s SubscriptionConfirmation and never confirms it', async () => {
    const h = snsHarness(auth);
    const res = await post(
      appFor(h),
      snsBody(h.sign(confirmation(h.clock.now(), 'arn:aws:sns:us-east-1:999999999999:attacker'))),
      'SubscriptionConfirmation',
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    await h.receiver.close();
    expect(h.confirmed).toEqual([]);
  });

  it('acknowledges an UnsubscribeConfirmation and visits nothing', async () => {
    const h = snsHarness(auth);
    const res = await post(
      appFor(h),
      snsBody(h.sign(confirmation(h.clock.now(), TOPIC_ARN, 'UnsubscribeConfirmation'))),
      'UnsubscribeConfirmation',
    );
    expect(res.status).toBe(200);
    await h.receiver.close();
    expect(h.confirmed).toEqual([]);
  });
});
