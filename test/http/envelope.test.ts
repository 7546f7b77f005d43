// Every response under the mount path is an envelope: parse failures, unknown routes, wrong methods, crashes.
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { httpApp } from '../helpers/http-app.js';

describe('envelope on every answer', () => {
  const h = httpApp({ bodyLimit: '64kb' });
  const crashing = httpApp({
    authenticate: () => {
      throw new Error('database password is hunter2');
    },
  });
  afterAll(async () => {
    await h.close();
    await crashing.close();
  });

  function expectError(res: request.Response, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
  }

  it('401 without a principal, on every route', async () => {
    expectError(await request(h.app).post('/bulk-email').send(bulkBody(1)), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).get('/bulk-email/abc'), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).get('/bulk-email/abc/results'), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).post('/bulk-email/abc/cancel'), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).get('/bulk-email/openapi.json'), 401, 'UNAUTHORIZED');
  });

  it('401 before 404/405: callers without credentials learn nothing about routes', async () => {
    expectError(await request(h.app).delete('/bulk-email/abc'), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).get('/bulk-email/a/b/c'), 401, 'UNAUTHORIZED');
  });

  it('400 INVALID_JSON for a body that is not JSON, or not UTF-8, or not really gzip', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"FromEmailAddress":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('@b.com"}'),
    ]);
    // Raw bytes over a real socket: supertest would serialize a Buffer as JSON.
    const server = h.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      const raw = await fetch(`http://127.0.0.1:${port}/bulk-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user': 'a' },
        body: new Uint8Array(bytes),
      });
      expect(raw.status).toBe(400);
      expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    } finally {
      server.close();
    }
    const gz = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{"not":"gzip"}');
    expectError(gz, 400, 'INVALID_JSON');
  });

  it('415 for a charset other than UTF-8', async () => {
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Content-Type', 'application/json; charset=utf-7')
      .send('{}');
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('400 INVALID_JSON for a body that is not JSON', async () => {
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Content-Type', 'application/json')
      .send('{"a":');
    expectError(res, 400, 'INVALID_JSON');
  });

  it('415 for a body that is not application/json', async () => {
    expectError(
      await request(h.app).post('/bulk-email').set('x-user', 'a').set('Content-Type', 'text/plain').send('hi'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(await request(h.app).post('/bulk-email').set('x-user', 'a'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('413 for a body over bodyLimit', async () => {
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(2000));
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(h.calls).toHaveLength(0);
  });

  it('404 for unknown routes and unknown jobs', async () => {
    expectError(await request(h.app).get('/bulk-email/a/b/c').set('x-user', 'a'), 404, 'NOT_FOUND');
    expectError(await request(h.app).get('/bulk-email/no-such-job').set('x-user', 'a'), 404, 'NOT_FOUND');
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await request(h.app).delete('/bulk-email/abc').set('x-user', 'a');
    expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toContain('GET');
    const root = await request(h.app).delete('/bulk-email').set('x-user', 'a');
    expectError(root, 405, 'METHOD_NOT_ALLOWED');
    expect(root.headers.allow).toBe('GET, HEAD, POST');
    const cancel = await request(h.app).get('/bulk-email/abc/cancel').set('x-user', 'a');
    expect(cancel.headers.allow).toBe('POST');
  });

  it('500 with a correlation id and nothing internal when a hook crashes', async () => {
    const res = await request(crashing.app).get('/bulk-email/abc');
    expectError(res, 500, 'INTERNAL_ERROR');
    expect(res.body.error.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    expect(JSON.stringify(res.body)).not.toContain('at ');
  });

  it('serves the OpenAPI document itself, not wrapped in the envelope, and only to an authenticated caller', async () => {
    const res = await request(h.app).get('/bulk-email/openapi.json').set('x-user', 'a').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).not.toHaveProperty('success');
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/{id}/results');
    expect(res.body.components.schemas.SendBulkEmailRequest.properties.BulkEmailEntries.maxItems).toBe(10_000);
    const head = await request(h.app).head('/bulk-email/openapi.json').set('x-user', 'a');
    expect(head.status).toBe(200);
    expectError(await request(h.app).get('/bulk-email/openapi.json'), 401, 'UNAUTHORIZED');
    expectError(await request(h.app).post('/bulk-email/openapi.json').set('x-user', 'a'), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('malformed paths', () => {
  const h = httpApp();
  afterAll(() => h.close());
  it.each(['/bulk-email/%FF', '/bulk-email/%E0%A4%A/results', '/bulk-email/%ZZ/cancel'])(
    '404 NOT_FOUND envelope for %s',
    async (path) => {
      const res = await request(h.app).get(path).set('x-user', 'a');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    },
  );
});
