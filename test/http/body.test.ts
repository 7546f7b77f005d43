// The JSON body reader of POST /: encodings, limits, early ends, BOM, parse messages, and bodies the app already read.
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import type { Store } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { httpApp } from '../helpers/http-app.js';

const LIMIT = 64 * 1024;

/** POSTs raw bytes over a real socket (supertest would serialize a Buffer as JSON). */
async function rawPost(app: express.Express, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const { port } = server.address() as import('node:net').AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/bulk-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'a', ...headers },
      body: new Uint8Array(bytes),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: { entries: number }; error?: { message: string } },
    };
  } finally {
    server.close();
  }
}

describe('POST / body reader', () => {
  const h = httpApp({ bodyLimit: '64kb' });
  afterAll(() => h.close());

  const post = () => request(h.app).post('/bulk-email').set('x-user', 'a').set('Content-Type', 'application/json');

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('accepts a %s-encoded body', async (encoding, compress) => {
    const res = await rawPost(h.app, compress(Buffer.from(JSON.stringify(bulkBody(3)))), {
      'content-encoding': encoding,
    });
    expect(res.status).toBe(202);
    expect(res.body.data?.entries).toBe(3);
  });

  it('415 for a Content-Encoding it cannot decode, and nothing is created', async () => {
    const before = h.calls.length;
    const res = await post()
      .set('Content-Encoding', 'compress')
      .send(JSON.stringify(bulkBody(1)));
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(res.body.error.message).toContain('compress');
    expect(h.calls.length).toBe(before);
  });

  it('413 when the decoded body is over the limit, even if the bytes sent are under it', async () => {
    const text = JSON.stringify({ ...bulkBody(1), Padding: ' '.repeat(LIMIT) });
    const compressed = gzipSync(Buffer.from(text));
    expect(compressed.length).toBeLessThan(LIMIT);
    const res = await rawPost(h.app, compressed, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.body.error?.message).toBe(`The body is larger than the limit of ${LIMIT} bytes`);
  });

  it('413 for a chunked body (no Content-Length) that grows over the limit', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const server = h.app.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as import('node:net').AddressInfo;
        const socket = connect(port, '127.0.0.1');
        let raw = '';
        socket.on('data', (d) => {
          raw += d.toString();
        });
        socket.on('end', () => {
          server.close();
          const [head, body] = raw.split('\r\n\r\n');
          resolve({ status: Number(head.split(' ')[1]), body });
        });
        socket.on('error', reject);
        socket.write(
          'POST /bulk-email HTTP/1.1\r\nHost: x\r\nx-user: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
        );
        const chunk = ' '.repeat(16 * 1024);
        for (let i = 0; i < 6; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.end('0\r\n\r\n');
      });
    });
    expect(res.status).toBe(413);
    expect(res.body).toContain('PAYLOAD_TOO_LARGE');
  });

  it('a request that ends before its declared length creates nothing, and the router keeps serving', async () => {
    const store = memoryStore();
    let created = 0;
    const counting: Store = {
      ...store,
      createJob: (...args) => {
        created++;
        return store.createJob(...args);
      },
    };
    const app = httpApp({ store: counting });
    const server = app.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        'POST /bulk-email HTTP/1.1\r\nHost: x\r\nx-user: a\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"FromEmail',
      );
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(created).toBe(0);
      const res = await request(app.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1));
      expect(res.status).toBe(202);
      expect(created).toBe(1);
    } finally {
      server.close();
      await app.close();
    }
  });

  it('drops a leading UTF-8 BOM, as express.json does', async () => {
    const res = await rawPost(
      h.app,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(bulkBody(2)))]),
    );
    expect(res.status).toBe(202);
    expect(res.body.data?.entries).toBe(2);
  });

  it('says where the JSON broke, without echoing the body', async () => {
    const cut = await post().send('{"FromEmailAddress":');
    expect(cut.status).toBe(400);
    expect(cut.body.error).toEqual({ code: 'INVALID_JSON', message: 'The body is not valid JSON (it ends too soon)' });
    const bad = await post().send('{"FromEmailAddress" "secret@example.com"}');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_JSON');
    expect(bad.body.error.message).toMatch(/^The body is not valid JSON \(at character \d+\)$/);
  });

  it('an empty body gets the list of missing fields', async () => {
    const res = await post().set('Content-Length', '0').send('');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(res.body.error.details)).toContain('required field \\"BulkEmailEntries\\" is missing');
  });
});

describe('a body the app already parsed', () => {
  it('is used as it is when express.json() ran before the router', async () => {
    const h = httpApp();
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.use('/bulk-email', h.router);
    try {
      const res = await request(app).post('/bulk-email').set('x-user', 'a').send(bulkBody(4));
      expect(res.status).toBe(202);
      expect(res.body.data.entries).toBe(4);
    } finally {
      await h.close();
    }
  });
});

describe('bodyLimit option', () => {
  it.each(['20 megs', '', '-1mb', 0, -5, 1.5, '10tb'])('refuses %j at build time with a TypeError', (bodyLimit) => {
    expect(() => httpApp({ bodyLimit: bodyLimit as string })).toThrow(TypeError);
    expect(() => httpApp({ bodyLimit: bodyLimit as string })).toThrow(/option "bodyLimit" must be a size/);
  });

  it.each([
    ['1.5mb', 1.5 * 1024 * 1024],
    ['512kb', 512 * 1024],
    [' 2MB ', 2 * 1024 * 1024],
    ['100b', 100],
    [1000, 1000],
  ])('reads %j as %d bytes', async (bodyLimit, bytes) => {
    const h = httpApp({ bodyLimit });
    try {
      const text = JSON.stringify(bulkBody(1));
      const room = bytes - Buffer.byteLength(text);
      if (room >= 0) {
        const res = await request(h.app)
          .post('/bulk-email')
          .set('x-user', 'a')
          .type('json')
          .send(`${text}${' '.repeat(room)}`);
        expect(res.status).toBe(202);
      }
      const over = `${text}${' '.repeat(Math.max(0, room) + 1)}`;
      const res = await request(h.app).post('/bulk-email').set('x-user', 'a').type('json').send(over);
      expect(res.status).toBe(413);
      expect(res.body.error.message).toBe(`The body is larger than the limit of ${bytes} bytes`);
    } finally {
      await h.close();
    }
  });
});
