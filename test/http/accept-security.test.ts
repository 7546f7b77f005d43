// Issue 10 on the accept side: nothing of the body before authentication (compressed bombs included), job ids checked
// before any store lookup, no host/address/port in error texts, and one-click unsubscribe for one recipient only.
import type { AddressInfo } from 'node:net';
import zlib, { brotliCompressSync, gzipSync } from 'node:zlib';
import { GetEmailTemplateCommand } from '@aws-sdk/client-sesv2';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { DISCARD_LIMIT } from '../../src/http/body.js';
import { unsubscribeTokens } from '../../src/unsubscribe/token.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

/** Serves `app` on a real socket for the test's duration; resolves its base URL. */
async function listen(app: express.Express) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Spies on the brotli decoder the body reader creates, counting the bytes it puts out. */
function brotliSpy() {
  let decoded = 0;
  const real = zlib.createBrotliDecompress;
  const spy = vi.spyOn(zlib, 'createBrotliDecompress').mockImplementation((options) => {
    const stream = real(options);
    stream.on('data', (chunk: Buffer) => {
      decoded += chunk.length;
    });
    return stream;
  });
  return { spy, decoded: () => decoded };
}

describe('authenticate before the body is touched', () => {
  let h: HttpApp | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    vi.restoreAllMocks();
  });

  // 21 MiB of JSON whitespace (over the default bodyLimit of 20 MiB): brotli makes it a few dozen bytes.
  const bomb = brotliCompressSync(Buffer.alloc(21 * 1024 * 1024, ' '));

  it('a brotli bomb without credentials is answered 401 with no decompression at all', async () => {
    expect(bomb.length).toBeLessThan(100);
    h = httpApp();
    const { server, base } = await listen(h.app);
    const brotli = brotliSpy();
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${base}/bulk-email`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
            body: bomb,
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string } } })),
        ),
      );
      for (const a of answers) expect(a).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
      expect(brotli.spy).not.toHaveBeenCalled();
      expect(brotli.decoded()).toBe(0);

      // The same bomb with credentials is decoded, up to the limit and no further: the spy sees real work.
      const res = await fetch(`${base}/bulk-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'br', 'x-user': 'a' },
        body: bomb,
      });
      expect(res.status).toBe(413);
      expect(brotli.spy).toHaveBeenCalledTimes(1);
      expect(brotli.decoded()).toBeGreaterThan(20 * 1024 * 1024 - 1024 * 1024); // bodyLimit 20 MiB, then it stops
    } finally {
      server.close();
    }
  });

  it.each([
    ['not JSON', { 'content-type': 'application/json' }, '{"FromEmailAddress":'],
    ['another media type', { 'content-type': 'text/plain' }, 'hello'],
    ['an unknown encoding', { 'content-type': 'application/json', 'content-encoding': 'compress' }, 'x'],
    ['a gzip body that does not decode', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'nope'],
    ['a body over bodyLimit', { 'content-type': 'application/json' }, ' '.repeat(70 * 1024)],
    ['a bad Idempotency-Key', { 'content-type': 'application/json', 'idempotency-key': '' }, '{}'],
  ])('without credentials, %s is 401, never 400/413/415', async (_what, headers, body) => {
    h = httpApp({ bodyLimit: '64kb' });
    const res = await request(h.app).post('/bulk-email').set(headers).send(body);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('a large unauthenticated body gets its 401, and the server reads at most ~64 KiB of it before closing', async () => {
    h = httpApp();
    const read: number[] = [];
    const app = express();
    app.use((req, res, next) => {
      res.on('close', () => read.push(req.socket.bytesRead));
      next();
    });
    app.use('/bulk-email', h.router);
    const { server, base } = await listen(app);
    try {
      const res = await fetch(`${base}/bulk-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(20 * 1024 * 1024, ' '),
      });
      expect(res.status).toBe(401);
      await vi.waitFor(() => expect(read).toHaveLength(1));
      expect(read[0]).toBeLessThan(1024 * 1024); // of 20 MiB sent: the connection was closed
      // A small unauthenticated body is read off: the connection stays usable.
      const small = await fetch(`${base}/bulk-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(bulkBody(3)),
      });
      expect(small.status).toBe(401);
      expect(JSON.stringify(bulkBody(3)).length).toBeLessThan(DISCARD_LIMIT);
    } finally {
      server.close();
    }
  });

  it('a gzip body from a caller with credentials is still read and accepted', async () => {
    h = httpApp();
    const { server, base } = await listen(h.app);
    try {
      const res = await fetch(`${base}/bulk-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-user': 'a' },
        body: gzipSync(JSON.stringify(bulkBody(2))),
      });
      expect(res.status).toBe(202);
    } finally {
      server.close();
    }
  });
});

describe('job ids are checked for shape before any store lookup', () => {
  it.each([
    'abc',
    '6F1C1C1E-9D4E-4A39-A7B5-0B7D3C1B0E11',
    '6f1c1c1e-9d4e-4a39-a7b5-0b7d3c1b0e11:payload',
    '6f1c1c1e-9d4e-4a39-a7b5-0b7d3c1b0e11:results',
    '6f1c1c1e-9d4e-1a39-a7b5-0b7d3c1b0e11',
    'x'.repeat(5000),
  ])('%.60s → 404 NOT_FOUND on every job route, and the store is never asked', async (id) => {
    const store = memoryStore();
    const getJob = vi.spyOn(store, 'getJob');
    const h = httpApp({ store });
    try {
      for (const [method, path] of [
        ['get', `/bulk-email/${id}`],
        ['get', `/bulk-email/${id}/results`],
        ['post', `/bulk-email/${id}/cancel`],
      ] as const) {
        const res = await request(h.app)[method](path).set('x-user', 'a');
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
        expect(JSON.stringify(res.body).length).toBeLessThan(300);
      }
      expect(getJob).not.toHaveBeenCalled();
    } finally {
      await h.close();
    }
  });
});

describe('client-visible error texts carry no host, address, port or stack', () => {
  let h: HttpApp | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const stored = bulkBody(2, { template: { TemplateName: 'stored', TemplateData: '{}' } });

  it('GetEmailTemplate unreachable (ECONNREFUSED 127.0.0.1:1) → 502 SES_ERROR "SES could not be reached"', async () => {
    h = httpApp();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: '127.0.0.1',
      port: 1,
    });
    h.mock.on(GetEmailTemplateCommand).rejects(refused);
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(stored).expect(502);
    expect(res.body.error).toMatchObject({ code: 'SES_ERROR', details: { ses_code: 'SES_UNREACHABLE' } });
    expect(res.body.error.message).toMatch(/^SES could not be reached/);
    const text = JSON.stringify(res.body);
    for (const leak of ['127.0.0.1', ':1', 'ECONNREFUSED', 'connect', ' at ']) expect(text).not.toContain(leak);
  });

  it('an error whose name is not an exception name is reported as Unknown, not echoed', async () => {
    h = httpApp();
    const odd = Object.assign(new Error('boom'), {
      name: 'Error at ses.internal.example:443',
      $metadata: { httpStatusCode: 500 },
    });
    h.mock.on(GetEmailTemplateCommand).rejects(odd);
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(stored).expect(502);
    expect(res.body.error.details).toEqual({ ses_code: 'Unknown' });
    expect(JSON.stringify(res.body)).not.toContain('ses.internal.example');
  });
});

describe('one-click unsubscribe only ever unsubscribes the person who received the link', () => {
  const SECRET = 'a-very-secret-secret-of-32-chars';
  let h: HttpApp | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const unsubscribed: string[] = [];
  const withUnsubscribe = () =>
    httpApp({
      unsubscribe: {
        secret: SECRET,
        url: 'https://mail.example.com/bulk-email/unsubscribe',
        onUnsubscribe: ({ address }) => {
          unsubscribed.push(address);
        },
      },
    });

  it('an entry with To + Cc (or several To) is refused with 400 naming each such entry; nothing is sent', async () => {
    h = withUnsubscribe();
    const body = bulkBody(3, { cc: true });
    body.BulkEmailEntries[1].Destination = { ToAddresses: ['solo@example.com'] };
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      '/BulkEmailEntries/0/Destination',
      '/BulkEmailEntries/2/Destination',
    ]);
    expect(res.body.error.details[0].message).toMatch(/exactly one recipient per entry; this one has 2/);
    expect(h.calls).toHaveLength(0);
  });

  it("each recipient's link unsubscribes that recipient, and the link reveals no principal or job id", async () => {
    h = withUnsubscribe();
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'tenant-secret-name')
      .set('Prefer', 'wait=5')
      .send(bulkBody(2))
      .expect(200);
    const jobId = res.body.data.id as string;
    const headers = h.calls.flatMap((c) =>
      (c.BulkEmailEntries as { ReplacementHeaders: { Name: string; Value: string }[] }[]).map(
        (e) => e.ReplacementHeaders.find((x) => x.Name === 'List-Unsubscribe')?.Value ?? '',
      ),
    );
    expect(headers).toHaveLength(2);
    const tokens = unsubscribeTokens(SECRET);
    for (const [i, value] of headers.entries()) {
      const token = /\/unsubscribe\/([^>]+)>/.exec(value)?.[1] as string;
      const decoded = [token, Buffer.from(token, 'base64url').toString('latin1')].join(' ');
      for (const hidden of ['tenant-secret-name', jobId, jobId.slice(0, 8), `user${i}`]) {
        expect(decoded).not.toContain(hidden);
      }
      expect(tokens.verify(token, Date.now())).toMatchObject({
        ok: true,
        payload: { address: `user${i}@example.com` },
      });
      await request(h.app).post(`/bulk-email/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');
    }
    expect(unsubscribed.slice(-2)).toEqual(['user0@example.com', 'user1@example.com']);
  });
});
