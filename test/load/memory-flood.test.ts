// Memory flood on the embedded default: one principal's flood of big and of many jobs is refused (429) while another
// principal is still served, several principals' floods fill the store to its bound (503), and the heap stays bounded.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, forkChild } from '../bench/support/rpc.js';
import { bulkBody } from '../helpers/bodies.js';

const MiB = 1024 * 1024;
/** memoryStore()'s default maxBytes, and the share one principal may hold (a quarter). */
const MAX_BYTES = 128 * MiB;
const PER_PRINCIPAL = MAX_BYTES / 4;
/**
 * What the heap may grow by, held jobs included: the store counts request bytes and the heap holds 1.2 to 2.4 times
 * as much (parsed objects, the request text parsed strings point into, attachments decoded for jobs being sent), so
 * 3 × maxBytes. Without the bounds this flood (60 jobs of 4.6 MiB and 120 small ones) would keep ~300-650 MiB more.
 */
const HEAP_BOUND = 3 * MAX_BYTES;

/** A 4.6 MiB request: 10 entries and a 3.4 MiB attachment (4.5 MiB as base64). */
const BIG = (() => {
  const body = bulkBody(10) as ReturnType<typeof bulkBody> & {
    DefaultContent: { Template: { Attachments?: unknown } };
  };
  body.DefaultContent.Template.Attachments = [
    { FileName: 'big.bin', RawContent: Buffer.alloc(3.4 * MiB, 1).toString('base64') },
  ];
  return JSON.stringify(body);
})();
const SMALL = JSON.stringify(bulkBody(1));

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
}

describe('memory flood on the embedded default (memoryStore() and package limits at their defaults)', () => {
  let child: Child;
  let url: string;
  beforeAll(async () => {
    child = await forkChild(fileURLToPath(new URL('./memory-flood-server.ts', import.meta.url)), [], {
      nodeArgs: ['--expose-gc'],
      quiet: true,
    });
    url = `${await child.call<string>('url')}/bulk-email`;
  }, 30_000);
  afterAll(async () => {
    await child?.close(10_000);
  });

  async function post(who: string, body: string): Promise<Answer> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': who },
      body,
    });
    const json = (await res.json()) as { error?: { code: string } };
    return { status: res.status, code: json.error?.code, retryAfter: res.headers.get('retry-after') };
  }

  const heap = async () => {
    const m = await child.call<NodeJS.MemoryUsage>('heap');
    return { used: m.heapUsed + m.external, rss: m.rss };
  };

  it('refuses the flooder, serves the others, and keeps the heap bounded', async () => {
    const base = await heap();
    const tally = (answers: Answer[]) =>
      answers.reduce<Record<string, number>>((t, a) => {
        const key = a.code ?? String(a.status);
        t[key] = (t[key] ?? 0) + 1;
        return t;
      }, {});

    // One principal, big jobs: accepted until its share of the store is full, then 429 with Retry-After.
    const big: Answer[] = [];
    for (let i = 0; i < 20; i++) big.push(await post('flooder', BIG));
    const acceptedBig = big.filter((a) => a.status === 202).length;
    // each counts its bytes plus 72 per entry for its results
    expect(acceptedBig).toBe(Math.floor(PER_PRINCIPAL / (Buffer.byteLength(BIG) + 10 * 72)));
    expect(big.slice(acceptedBig).every((a) => a.status === 429 && a.code === 'RATE_LIMITED')).toBe(true);
    expect(Number(big.at(-1)?.retryAfter)).toBeGreaterThan(0);
    expect((await post('victim', SMALL)).status).toBe(202);

    // The same principal, many tiny jobs: 429 once it has maxActiveJobs (100) unfinished.
    const small: Answer[] = [];
    for (let i = 0; i < 120; i++) small.push(await post('flooder', SMALL));
    expect(small.filter((a) => a.status === 202)).toHaveLength(100 - acceptedBig);
    expect(small.slice(100 - acceptedBig).every((a) => a.code === 'RATE_LIMITED')).toBe(true);
    expect((await post('victim', SMALL)).status).toBe(202);

    // Four more principals flooding: the store fills to maxBytes and answers 503 with Retry-After.
    const others: Answer[] = [];
    for (const who of ['f2', 'f3', 'f4', 'f5']) for (let i = 0; i < 8; i++) others.push(await post(who, BIG));
    const full = others.filter((a) => a.status === 503);
    expect(full.length).toBeGreaterThan(0);
    expect(full.every((a) => a.code === 'SERVICE_UNAVAILABLE' && Number(a.retryAfter) > 0)).toBe(true);
    // A small job still fits in what is left.
    expect((await post('victim', SMALL)).status).toBe(202);

    const after = await heap();
    const grown = after.used - base.used;
    const acceptedBytes = (acceptedBig + others.filter((a) => a.status === 202).length) * Buffer.byteLength(BIG);
    console.log(
      `memory flood: ${big.length + small.length + others.length} posts (${JSON.stringify(tally([...big, ...small, ...others]))}); ` +
        `${(acceptedBytes / MiB).toFixed(0)} MiB of requests held (maxBytes ${MAX_BYTES / MiB} MiB); ` +
        `heap + external grew ${(grown / MiB).toFixed(0)} MiB (${(grown / acceptedBytes).toFixed(2)} × the requests held), ` +
        `RSS ${(base.rss / MiB).toFixed(0)} → ${(after.rss / MiB).toFixed(0)} MiB`,
    );
    expect(acceptedBytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(grown).toBeLessThan(HEAP_BOUND);
  }, 180_000);
});
