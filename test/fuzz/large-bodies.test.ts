// 10 MB hostile bodies: over a 1 MiB bodyLimit they get 413 (sized, streamed, compressed); under the default 20 MB, 400.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import {
  crashWatch,
  expectRefusal,
  type FuzzTarget,
  PRINCIPAL,
  prototypeGuard,
  type Reply,
  startFuzzTarget,
} from './harness.js';
import { compress, FUZZ_LIMITS } from './hostile-bodies.js';

const MB = 1024 * 1024;
const TEN_MB = 10 * MB;
/** Per request: parsing and validating 10 MB is well under this; more means work grows with the input's shape. */
const BOUND_MS = 5000;

function entriesOf(count: number, entry: object): string {
  const one = JSON.stringify(entry);
  return `[${Array.from({ length: count }, () => one).join(',')}]`;
}

/** `body` with `marker` (a quoted JSON string in it) replaced by raw text. */
function splice(body: object, marker: string, raw: string): string {
  return JSON.stringify(body).replace(JSON.stringify(marker), () => raw);
}

describe('10 MB bodies', () => {
  const guard = prototypeGuard();
  let small: FuzzTarget;
  let large: FuzzTarget;
  let watch: ReturnType<typeof crashWatch>;
  beforeAll(async () => {
    small = await startFuzzTarget({ ...FUZZ_LIMITS });
    large = await startFuzzTarget();
    watch = crashWatch();
  });
  afterAll(async () => {
    watch.stop();
    await small.close();
    await large.close();
  });

  async function timed(send: () => Promise<Reply>): Promise<Reply> {
    const started = performance.now();
    const reply = await send();
    expect(performance.now() - started, 'answer time (ms)').toBeLessThan(BOUND_MS);
    return reply;
  }

  function nothingHappened(target: FuzzTarget) {
    expect(target.spied.createJob).toBe(0);
    expect(target.h.calls).toHaveLength(0);
    guard.check();
    expect(watch.errors).toEqual([]);
  }

  describe('over a 1 MiB bodyLimit: 413 PAYLOAD_TOO_LARGE', () => {
    it('a valid 10 MB body with Content-Length', async () => {
      const body = bulkBody(10);
      const text = splice(
        {
          ...body,
          DefaultContent: {
            Template: { ...body.DefaultContent.Template, TemplateContent: { Subject: 'Hi', Text: '@@T@@' } },
          },
        },
        '@@T@@',
        `"${'x'.repeat(TEN_MB)}"`,
      );
      const reply = await timed(() => small.post(text));
      expectRefusal(reply, ['PAYLOAD_TOO_LARGE']);
      nothingHappened(small);
    });

    it('10 MB streamed without Content-Length (chunked), the limit is enforced while reading', async () => {
      const reply = await timed(
        () =>
          new Promise<Reply>((resolve, reject) => {
            const req = httpRequest(
              `${small.url}/bulk-email`,
              {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'x-user': PRINCIPAL, 'transfer-encoding': 'chunked' },
              },
              (res) => {
                const parts: Buffer[] = [];
                res.on('data', (c: Buffer) => parts.push(c));
                res.on('end', () => {
                  const text = Buffer.concat(parts).toString();
                  resolve({
                    status: res.statusCode ?? 0,
                    contentType: String(res.headers['content-type']),
                    text,
                    json: JSON.parse(text),
                  });
                });
              },
            );
            req.on('error', reject);
            const chunk = Buffer.alloc(64 * 1024, 'x');
            req.write('{"Padding":"');
            let written = 0;
            const pump = () => {
              while (written < TEN_MB) {
                written += chunk.length;
                if (!req.write(chunk)) return void req.once('drain', pump);
              }
              req.end('"}');
            };
            pump();
          }),
      );
      expectRefusal(reply, ['PAYLOAD_TOO_LARGE']);
      nothingHappened(small);
    });

    it('10 MB that arrive deflate-compressed as 10 kB (a decompression bomb)', async () => {
      const bomb = compress(
        'deflate',
        Buffer.from(splice({ ...bulkBody(1), Padding: '@@P@@' }, '@@P@@', `"${' '.repeat(TEN_MB)}"`)),
      );
      expect(bomb.length).toBeLessThan(64 * 1024);
      const reply = await timed(() => small.post(bomb, { 'content-encoding': 'deflate' }));
      expectRefusal(reply, ['PAYLOAD_TOO_LARGE']);
      nothingHappened(small);
    });
  });

  describe('under the default 20 MB bodyLimit: 400 VALIDATION_ERROR, in bounded time', () => {
    async function refused(text: string, paths: string[]) {
      expect(text.length).toBeGreaterThanOrEqual(TEN_MB * 0.95);
      const reply = await timed(() => large.post(text));
      const { details } = expectRefusal(reply, ['VALIDATION_ERROR']);
      const list = details as { path: string; message: string }[];
      expect(list.length).toBeLessThanOrEqual(101);
      expect(
        list.map((d) => d.path).some((p) => paths.includes(p)),
        list.map((d) => d.path).join(', '),
      ).toBe(true);
      // The answer stays small: no 10 MB value is echoed back.
      expect(reply.text.length).toBeLessThan(64 * 1024);
      nothingHappened(large);
    }

    it('a 10 MB TemplateData (the limit is 256 KiB)', async () => {
      const body = bulkBody(1);
      const data = JSON.stringify({ name: 'x', blob: 'y'.repeat(TEN_MB) });
      await refused(
        JSON.stringify({
          ...body,
          DefaultContent: { Template: { ...body.DefaultContent.Template, TemplateData: data } },
        }),
        ['/DefaultContent/Template/TemplateData'],
      );
    });

    it('a 10 MB value under an unknown field, next to a CRLF in From', async () => {
      await refused(
        splice(
          { ...bulkBody(1), FromEmailAddress: 'a@example.com\r\nBcc: x@evil.com', Padding: '@@P@@' },
          '@@P@@',
          `"${'p'.repeat(TEN_MB)}"`,
        ),
        ['/Padding', '/FromEmailAddress'],
      );
    });

    it('a legal 10 MB Text with a bad recipient', async () => {
      const body = bulkBody(1);
      const text = splice(
        {
          ...body,
          DefaultContent: { Template: { TemplateContent: { Subject: 'Hi', Text: '@@T@@' } } },
          BulkEmailEntries: [{ Destination: { ToAddresses: ['not an address'] } }],
        },
        '@@T@@',
        `"${'Lorem ipsum dolor sit amet. '.repeat(TEN_MB / 28)}"`,
      );
      await refused(text, ['/BulkEmailEntries/0/Destination/ToAddresses/0']);
    });

    it('10,000 entries of 50 bad addresses each (500,000 problems): 100 listed and a count', async () => {
      const addresses = Array.from({ length: 50 }, (_, i) => `bad-address-number-${i}`);
      const text = splice(
        { ...bulkBody(1), BulkEmailEntries: '@@E@@' },
        '@@E@@',
        entriesOf(10_000, { Destination: { ToAddresses: addresses } }),
      );
      await refused(text, ['']);
    });

    it('12,000 entries (over maxEntries 10,000) of 850 bytes each', async () => {
      const entry = {
        Destination: { ToAddresses: ['someone@example.com'] },
        ReplacementHeaders: [{ Name: 'X-Pad', Value: 'v'.repeat(780) }],
      };
      await refused(splice({ ...bulkBody(1), BulkEmailEntries: '@@E@@' }, '@@E@@', entriesOf(12_000, entry)), [
        '/BulkEmailEntries',
      ]);
    });

    it('arrays nested 1,000,000 deep in an unknown field, padded to 10 MB', async () => {
      const depth = 1_000_000;
      const raw = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      await refused(splice({ ...bulkBody(1), Deep: '@@D@@', Padding: 'z'.repeat(TEN_MB - 2 * depth) }, '@@D@@', raw), [
        '/Deep',
        '/Padding',
      ]);
    });
  });

  it('the process is healthy afterwards', async () => {
    expect((await large.get('/bulk-email/openapi.json')).status).toBe(200);
    const reply = await large.post(JSON.stringify(bulkBody(2)));
    expect(reply.status, reply.text).toBe(202);
    expect(large.spied.createJob).toBe(1);
  });
});
