// unsubscribeHandler(): POST /unsubscribe/:token on a tiny Express app with the router's error boundary.
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { errorHandler } from '../../src/http/error-handler.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { Logger, Store } from '../../src/types.js';
import { unsubscribeHandler } from '../../src/unsubscribe/handler.js';
import { type UnsubscribeTokenPayload, unsubscribeTokens } from '../../src/unsubscribe/token.js';

const SECRET = 'a-very-secret-secret-of-32-chars';
const signToken = (payload: UnsubscribeTokenPayload, secret: string) => unsubscribeTokens(secret).sign(payload);
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function setup(
  onUnsubscribe: (e: { address: string; job_id: string; principal_id: string }) => void | Promise<void> = () => {},
) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const store = memoryStore({ clock });
  const spy = vi.fn(onUnsubscribe);
  const app = express();
  app.post('/unsubscribe/:token', unsubscribeHandler({ secret: SECRET, onUnsubscribe: spy, store, clock }));
  app.use(errorHandler(silent));
  const token = (over: Partial<{ address: string; expiresAt: number }> = {}) =>
    signToken(
      { address: 'alice@example.com', jobId: 'job-1', principalId: 'p-1', expiresAt: now + 3_600_000, ...over },
      SECRET,
    );
  return { app, spy, store, token, advance: (ms: number) => (now += ms) };
}

const oneClick = (app: express.Express, token: string) =>
  request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');

describe('unsubscribeHandler', () => {
  it('unsubscribes with a valid token: 200 envelope, onUnsubscribe called with snake_case fields', async () => {
    const { app, spy, token } = setup();
    const res = await oneClick(app, token());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ success: true, data: { unsubscribed: true } });
    expect(spy).toHaveBeenCalledExactlyOnceWith({ address: 'alice@example.com', job_id: 'job-1', principal_id: 'p-1' });
  });

  it('calls onUnsubscribe once per token; repeats answer 200 too', async () => {
    const { app, spy, token } = setup();
    const t = token();
    for (let i = 0; i < 3; i++) expect((await oneClick(app, t)).status).toBe(200);
    expect(spy).toHaveBeenCalledTimes(1);
    // another token (another address) is another call
    expect((await oneClick(app, token({ address: 'bob@example.com' }))).status).toBe(200);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('accepts any body or none, and needs no cookies or auth', async () => {
    const { app, spy, token } = setup();
    expect((await request(app).post(`/unsubscribe/${token()}`)).status).toBe(200);
    expect(
      (
        await request(app)
          .post(`/unsubscribe/${token({ address: 'b@x.io' })}`)
          .set('Content-Type', 'text/plain')
          .send('whatever')
      ).status,
    ).toBe(200);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('a forged token → 400 INVALID_TOKEN, nothing called', async () => {
    const { app, spy, token } = setup();
    const t = token();
    const forged = `${t.slice(0, 5)}${t[5] === 'A' ? 'B' : 'A'}${t.slice(6)}`;
    const res = await oneClick(app, forged);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: false,
      error: {
        code: 'INVALID_TOKEN',
        message: 'This unsubscribe link is not valid',
        details: { reason: 'bad-signature' },
      },
    });
    const other = signToken(
      { address: 'a@b.c', jobId: 'j', principalId: 'p', expiresAt: Date.now() * 2 },
      'some-other-secret-16+',
    );
    expect((await oneClick(app, other)).body.error.code).toBe('INVALID_TOKEN');
    expect(spy).not.toHaveBeenCalled();
  });

  it('an expired token → 400 INVALID_TOKEN', async () => {
    const { app, spy, token, advance } = setup();
    const t = token();
    advance(3_600_000);
    const res = await oneClick(app, t);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'INVALID_TOKEN',
      message: 'This unsubscribe link has expired',
      details: { reason: 'expired' },
    });
    expect(spy).not.toHaveBeenCalled();
  });

  it('a malformed or oversized token → 400 INVALID_TOKEN', async () => {
    const { app } = setup();
    expect((await oneClick(app, 'nonsense')).body.error).toMatchObject({
      code: 'INVALID_TOKEN',
      details: { reason: 'malformed' },
    });
    expect((await oneClick(app, 'x'.repeat(5000))).body.error).toMatchObject({
      code: 'INVALID_TOKEN',
      details: { reason: 'malformed' },
    });
  });

  it('if onUnsubscribe throws: 500 INTERNAL_ERROR and the token can be used again', async () => {
    let fail = true;
    const { app, spy, token } = setup(() => {
      if (fail) throw new Error('db down');
    });
    const t = token();
    const first = await oneClick(app, t);
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe('INTERNAL_ERROR');
    fail = false;
    expect((await oneClick(app, t)).status).toBe(200);
    expect((await oneClick(app, t)).status).toBe(200);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('a repeat while the first is still running → 409 IDEMPOTENCY_IN_FLIGHT, then 200', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { app, spy, token } = setup(() => gate);
    const t = token();
    const first = oneClick(app, t).then((r) => r);
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    const second = await oneClick(app, t);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
    expect(second.headers['retry-after']).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('keeps the used-token record until the token expires, under a hashed key', async () => {
    const { app, store, token } = setup();
    const claim = vi.spyOn(store, 'claimIdempotency');
    const t = token();
    await oneClick(app, t);
    expect(claim).toHaveBeenCalledWith(
      expect.stringMatching(/^unsubscribe:[A-Za-z0-9_-]{43}$/),
      'u',
      3_600_000,
      'unsubscribe:p-1',
    );
    expect(claim.mock.calls[0][0]).not.toContain(t);
  });

  it('store errors reach the error boundary', async () => {
    const broken = {
      claimIdempotency: async () => {
        throw new Error('redis gone');
      },
      completeIdempotency: async () => {},
      releaseIdempotency: async () => {},
    } as unknown as Store;
    const app = express();
    app.post('/unsubscribe/:token', unsubscribeHandler({ secret: SECRET, onUnsubscribe: () => {}, store: broken }));
    app.use(errorHandler(silent));
    const t = signToken({ address: 'a@b.c', jobId: 'j', principalId: 'p', expiresAt: Date.now() + 60_000 }, SECRET);
    expect((await oneClick(app, t)).status).toBe(500);
  });
});
