// boundedGet() and certificateCache() against a real local HTTP server: redirects, deadlines, size caps, LRU bound.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GetFailure, boundedGet } from '../../../src/events/bounded-get.js';
import { certificateCache } from '../../../src/events/certificate-cache.js';
import { type TestAuthority, createTestAuthority } from '../../helpers/sns-signer.js';

let server: Server;
let base: string;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    switch (req.url) {
      case '/ok':
        res.end('hello');
        return;
      case '/redirect':
        res.writeHead(302, { Location: '/ok' }).end();
        return;
      case '/missing':
        res.writeHead(404).end('no');
        return;
      case '/down':
        res.writeHead(503).end();
        return;
      case '/big':
        res.writeHead(200, { 'Content-Length': '100000' }).end('x'.repeat(100_000));
        return;
      case '/big-chunked':
        res.writeHead(200);
        for (let i = 0; i < 100; i++) res.write('x'.repeat(1000));
        res.end();
        return;
      case '/slow':
        res.writeHead(200);
        res.write('a');
        return; // never ends
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const limits = { timeoutMs: 1000, maxBytes: 10_000 };
const failure = (url: string, over = {}) =>
  boundedGet(`${base}${url}`, { ...limits, ...over }).then(
    () => undefined,
    (err: GetFailure) => err.kind,
  );

describe('boundedGet', () => {
  it('returns the body of a 200', async () => {
    expect(await boundedGet(`${base}/ok`, limits)).toBe('hello');
  });

  it('does not follow a redirect', async () => {
    hits.length = 0;
    expect(await failure('/redirect')).toBe('refused');
    expect(hits).toEqual(['/redirect']);
  });

  it('tells a refusal (4xx) from a passing failure (5xx, network, deadline)', async () => {
    expect(await failure('/missing')).toBe('refused');
    expect(await failure('/down')).toBe('unreachable');
    expect(await failure('/slow', { timeoutMs: 200 })).toBe('unreachable');
    expect(
      await boundedGet('http://127.0.0.1:1/x', limits).then(
        () => undefined,
        (e: GetFailure) => e.kind,
      ),
    ).toBe('unreachable');
  });

  it('stops reading past maxBytes, declared or not', async () => {
    expect(await failure('/big')).toBe('too-large');
    expect(await failure('/big-chunked')).toBe('too-large');
  });
});

describe('certificateCache', () => {
  let auth: TestAuthority;
  beforeAll(() => {
    auth = createTestAuthority();
  });

  it('keeps at most maxEntries certificates (least recently used dropped)', async () => {
    const fetched: string[] = [];
    const cache = certificateCache({
      now: () => 0,
      maxEntries: 2,
      fetchCertificate: async (url) => {
        fetched.push(url);
        return auth.certPem;
      },
    });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // drops b
    await cache.get('a');
    await cache.get('b');
    expect(fetched).toEqual(['a', 'b', 'c', 'b']);
  });

  it('downloads again after ttlMs', async () => {
    let now = 0;
    let count = 0;
    const cache = certificateCache({
      now: () => now,
      ttlMs: 1000,
      fetchCertificate: async () => {
        count++;
        return auth.certPem;
      },
    });
    await cache.get('a');
    now = 999;
    await cache.get('a');
    now = 1000;
    await cache.get('a');
    expect(count).toBe(2);
  });

  it('gives up on a fetchCertificate that hangs (as unreachable)', async () => {
    const cache = certificateCache({ now: () => 0, timeoutMs: 50, fetchCertificate: () => new Promise(() => {}) });
    await expect(cache.get('a')).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('refuses a PEM larger than maxBytes as invalid', async () => {
    const cache = certificateCache({ now: () => 0, maxBytes: 100, fetchCertificate: async () => 'x'.repeat(101) });
    await expect(cache.get('a')).rejects.toMatchObject({ kind: 'invalid' });
  });
});
