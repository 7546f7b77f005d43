// 1,000 idle event streams in one server process — the SSE writer alone, and GET /:id/events through the router —
// the memory they hold, measured after GC, and all freed on close.
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, forkChild } from '../bench/support/rpc.js';

const STREAMS = 1_000;
/** The bound this suite holds the server to, per idle stream (heap; RSS is reported). Measured ≈ see the README. */
const MAX_HEAP_PER_STREAM = 24 * 1024;

interface Memory {
  heapUsed: number;
  rss: number;
  external: number;
  open: number;
  subscribed: number;
  ended: number;
}

async function openStream(port: number, path: string, i: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nx-user: p${i % 50}\r\n\r\n`);
  let text = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: string) => {
      text += chunk;
      if (text.includes('event: progress')) {
        socket.off('data', onData);
        socket.resume();
        resolve();
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

const SERVERS = [
  ['the SSE writer with a fixed feed', './sse-idle-server.ts'],
  ['GET /:id/events through the router', './sse-route-server.ts'],
] as const;

describe.each(SERVERS)('%s', (name, file) => {
  let child: Child;
  beforeAll(async () => {
    child = await forkChild(fileURLToPath(new URL(file, import.meta.url)), [], { nodeArgs: ['--expose-gc'] });
  });
  afterAll(async () => {
    await child?.close();
  });

  it(`holds ${STREAMS} idle streams within ${MAX_HEAP_PER_STREAM / 1024} KiB of heap each, and frees them all`, async () => {
    const port = await child.call<number>('port');
    const paths = await child.call<string[]>('paths', STREAMS);
    // Warm up (JIT, Express's lazy state) with a few streams, then measure from there.
    const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => openStream(port, paths[i], i)));
    for (const s of warm) s.destroy();
    await until(async () => (await child.call<Memory>('memory')).open === 0);
    const before = await child.call<Memory>('memory');

    const sockets: net.Socket[] = [];
    for (let i = 0; i < STREAMS; i += 100) {
      sockets.push(
        ...(await Promise.all(Array.from({ length: 100 }, (_, j) => openStream(port, paths[i + j], i + j)))),
      );
    }
    const during = await child.call<Memory>('memory');
    expect(during.open).toBe(STREAMS);
    expect(during.subscribed).toBe(STREAMS);
    const heapPer = (during.heapUsed - before.heapUsed) / STREAMS;
    const rssPer = (during.rss - before.rss) / STREAMS;
    console.log(
      `${STREAMS} idle SSE streams (${name}): heap +${((during.heapUsed - before.heapUsed) / 1024 / 1024).toFixed(1)} MiB ` +
        `(${(heapPer / 1024).toFixed(1)} KiB/stream), RSS +${((during.rss - before.rss) / 1024 / 1024).toFixed(1)} MiB ` +
        `(${(rssPer / 1024).toFixed(1)} KiB/stream)`,
    );
    expect(heapPer).toBeLessThan(MAX_HEAP_PER_STREAM);

    for (const s of sockets) s.destroy();
    await until(async () => (await child.call<Memory>('memory')).open === 0);
    const after = await child.call<Memory>('memory');
    expect(after.subscribed).toBe(0);
    expect(after.ended).toBe(STREAMS + warm.length);
    expect(after.heapUsed - before.heapUsed).toBeLessThan((during.heapUsed - before.heapUsed) / 2);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
