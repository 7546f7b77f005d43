// The SSE writer over a real HTTP server: framing, headers, Last-Event-ID, heartbeat, a slow reader, clean close, 429.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncHandler } from '../../src/http/async-handler.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { type EventFeed, type SseEvent, type SseOptions, streamEvents } from '../../src/http/sse.js';
import { streamLimiter, tooManyStreams } from '../../src/http/stream-limiter.js';
import { silentLogger } from '../../src/logger.js';

/** A job-like state with a version; `since` answers the current state unless the client has it already. */
function testFeed(pad = 0) {
  let version = 1;
  let finished = false;
  let data: Record<string, unknown> = { sent: 0, pad: 'x'.repeat(pad) };
  const listeners = new Set<() => void>();
  const calls: (string | null)[] = [];
  const feed: EventFeed = {
    async since(last) {
      calls.push(last);
      if (last === String(version)) return [];
      return [{ event: finished ? 'done' : 'progress', id: String(version), data }];
    },
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
  };
  return {
    feed,
    calls,
    listeners,
    set(next: Record<string, unknown>, done = false) {
      version += 1;
      data = { ...next, pad: 'x'.repeat(pad) };
      finished = done;
      for (const l of [...listeners]) l();
    },
  };
}

interface ServerState {
  ended: number;
  maxBuffered: number;
  drainListeners: number[];
  closeListeners: number[];
}

async function serve(feed: EventFeed, options: SseOptions = {}, limiter = streamLimiter(100)) {
  const state: ServerState = { ended: 0, maxBuffered: 0, drainListeners: [], closeListeners: [] };
  const app = express();
  app.get(
    '/events',
    asyncHandler(async (req, res) => {
      const release = limiter.acquire(String(req.get('x-user')));
      if (!release) throw tooManyStreams(2);
      const before = { drain: res.listenerCount('drain'), close: res.listenerCount('close') };
      const write = res.write.bind(res);
      res.write = ((chunk: never, ...rest: never[]) => {
        const ok = write(chunk, ...rest);
        state.maxBuffered = Math.max(state.maxBuffered, res.writableLength);
        return ok;
      }) as typeof res.write;
      try {
        await streamEvents(req, res, feed, options);
      } finally {
        release();
        state.ended += 1;
        state.drainListeners.push(res.listenerCount('drain') - before.drain);
        state.closeListeners.push(res.listenerCount('close') - before.close);
      }
    }),
  );
  app.use(errorHandler(silentLogger));
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  open.push({
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { port, state };
}

/** Reads a stream as a client would: parsed events, comments seen, the response. */
function connect(port: number, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  let comments = 0;
  let text = '';
  const request = http.get({ host: '127.0.0.1', port, path: '/events', headers: { 'x-user': 'p1', ...headers } });
  const response = new Promise<http.IncomingMessage>((resolve) => request.on('response', resolve));
  const ended = new Promise<void>((resolve) => {
    request.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let cut = text.indexOf('\n\n');
        while (cut >= 0) {
          const block = text.slice(0, cut);
          text = text.slice(cut + 2);
          if (block.startsWith(':')) comments += 1;
          else {
            const field = (name: string) =>
              block
                .split('\n')
                .find((l) => l.startsWith(`${name}: `))
                ?.slice(name.length + 2);
            events.push({ event: field('event')!, id: field('id')!, data: JSON.parse(field('data')!) });
          }
          cut = text.indexOf('\n\n');
        }
      });
      res.on('end', resolve);
      res.on('close', resolve);
    });
    request.on('error', () => resolve());
  });
  return { events, response, ended, comments: () => comments, abort: () => request.destroy() };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Changes the state until the stream stops fetching for 200 ms although it keeps changing: the client's kernel
 * buffers are full and the server waits for a drain that does not come.
 */
async function fillUntilBlocked(t: ReturnType<typeof testFeed>): Promise<void> {
  const end = Date.now() + 15_000;
  let sent = 0;
  for (;;) {
    if (Date.now() > end) throw new Error('the socket never filled');
    const before = t.calls.length;
    for (let i = 0; i < 20; i++) {
      t.set({ sent: ++sent });
      await new Promise((r) => setTimeout(r, 10));
    }
    if (t.calls.length === before) return;
  }
}

/** Counts intervals not cleared and timeouts neither fired nor cleared, created while tracking. */
function trackTimers() {
  const real = { setInterval, clearInterval, setTimeout, clearTimeout };
  const live = new Set<unknown>();
  const track = (set: typeof setTimeout, once: boolean) =>
    ((fn: () => void, ms?: number) => {
      const handle = set(() => {
        if (once) live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    }) as typeof setTimeout;
  const untrack = (clear: typeof clearTimeout) =>
    ((handle: NodeJS.Timeout) => {
      live.delete(handle);
      clear(handle);
    }) as typeof clearTimeout;
  globalThis.setInterval = track(real.setInterval as typeof setTimeout, false) as typeof setInterval;
  globalThis.clearInterval = untrack(real.clearInterval) as typeof clearInterval;
  globalThis.setTimeout = track(real.setTimeout, true);
  globalThis.clearTimeout = untrack(real.clearTimeout);
  return {
    pending: () => live.size,
    restore: () => Object.assign(globalThis, real),
  };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

describe('streamEvents', () => {
  it('writes the current state at once, each change after it, and ends after done', async () => {
    const t = testFeed();
    const { port, state } = await serve(t.feed, { minIntervalMs: 0 });
    const client = connect(port);
    const res = await client.response;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-accel-buffering']).toBe('no');
    await until(() => client.events.length === 1);
    t.set({ sent: 1 });
    await until(() => client.events.length === 2);
    t.set({ sent: 2 }, true);
    await client.ended;
    expect(client.events).toEqual([
      { event: 'progress', id: '1', data: { sent: 0, pad: '' } },
      { event: 'progress', id: '2', data: { sent: 1, pad: '' } },
      { event: 'done', id: '3', data: { sent: 2, pad: '' } },
    ]);
    await until(() => state.ended === 1);
    expect(t.listeners.size).toBe(0);
  });

  it('keeps data on one line whatever the strings hold', async () => {
    const feed: EventFeed = {
      since: async () => [{ event: 'done', id: '1', data: { address: 'a\nb\r\nc\u2028d@example.com' } }],
      subscribe: () => () => {},
    };
    const { port } = await serve(feed);
    const client = connect(port);
    await client.ended;
    expect(client.events).toEqual([{ event: 'done', id: '1', data: { address: 'a\nb\r\nc\u2028d@example.com' } }]);
  });

  it('passes Last-Event-ID to since(); a client reconnecting after the end still gets the final state', async () => {
    const t = testFeed();
    t.set({ sent: 5 }, true);
    const { port } = await serve(t.feed);
    const first = connect(port, { 'Last-Event-ID': '1' });
    await first.ended;
    expect(first.events.map((e) => e.event)).toEqual(['done']);
    expect(t.calls).toEqual(['1']);
    const unusable = connect(port, { 'Last-Event-ID': 'x'.repeat(300) });
    await unusable.ended;
    expect(t.calls.at(-1)).toBeNull();
  });

  it('sends nothing but heartbeats while the state does not change (a client up to date)', async () => {
    const t = testFeed();
    const { port } = await serve(t.feed, { heartbeatMs: 40 });
    const client = connect(port, { 'Last-Event-ID': '1' });
    expect((await client.response).statusCode).toBe(200);
    await until(() => client.comments() >= 3);
    expect(client.events).toEqual([]);
    client.abort();
  });

  it('folds changes closer than minIntervalMs into one event carrying the latest state', async () => {
    const t = testFeed();
    const { port } = await serve(t.feed, { minIntervalMs: 300 });
    const client = connect(port);
    await until(() => client.events.length === 1);
    for (let i = 1; i <= 50; i++) t.set({ sent: i });
    await new Promise((r) => setTimeout(r, 450));
    expect(client.events.length).toBeLessThanOrEqual(3);
    expect(client.events.at(-1)?.data).toEqual({ sent: 50, pad: '' });
    client.abort();
  });

  it('a client that stops reading never makes the server buffer more than the socket plus one state; done still arrives', async () => {
    const t = testFeed(200_000); // 200 KB states
    const { port, state } = await serve(t.feed, { minIntervalMs: 0 });
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\nx-user: p1\r\nConnection: close\r\n\r\n');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    await until(() => received.includes('event: progress'));
    socket.pause(); // the client stops reading: the kernel buffers fill, then Node's
    await fillUntilBlocked(t);
    const fetchesWhileBlocked = t.calls.length;
    for (let i = 0; i < 1_000; i++) t.set({ sent: 100_000 + i });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.calls.length - fetchesWhileBlocked).toBeLessThanOrEqual(1); // nothing fetched while not drained
    // Node's buffer: what was in it below the high-water mark (16 KiB) plus one 200 KB state.
    expect(state.maxBuffered).toBeLessThan(16 * 1024 + 200_100);
    t.set({ sent: 3_001 }, true);
    expect(state.ended).toBe(0);
    socket.resume();
    await once(socket, 'end');
    const last = received.slice(received.lastIndexOf('event: ')); // each frame is one chunk of the chunked body
    expect(last).toContain('event: done');
    expect(last).toContain('"sent":3001');
    socket.destroy();
  });

  it('disconnects a client that has not drained for stallTimeoutMs, leaving no listener or subscription', async () => {
    const t = testFeed(200_000);
    const { port, state } = await serve(t.feed, { minIntervalMs: 0, stallTimeoutMs: 300 });
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\nx-user: p1\r\nConnection: close\r\n\r\n');
    socket.pause();
    await fillUntilBlocked(t);
    await until(() => state.ended === 1, 5_000);
    expect(t.listeners.size).toBe(0);
    expect(state.drainListeners).toEqual([0]);
    expect(state.closeListeners).toEqual([0]);
    socket.destroy();
  });

  it('when the client goes: unsubscribed, no timer left, listeners removed', async () => {
    const timers = trackTimers();
    try {
      const t = testFeed();
      const { port, state } = await serve(t.feed, { heartbeatMs: 1_000, minIntervalMs: 5_000 });
      const client = connect(port);
      await until(() => client.events.length === 1);
      t.set({ sent: 1 }); // arms the throttle timer
      expect(timers.pending()).toBeGreaterThanOrEqual(2); // the heartbeat and the throttle
      client.abort();
      await until(() => state.ended === 1);
      expect(t.listeners.size).toBe(0);
      expect(state.drainListeners).toEqual([0]);
      expect(state.closeListeners).toEqual([0]);
      expect(timers.pending()).toBe(0);
    } finally {
      timers.restore();
    }
  });

  it('an aborted signal ends the stream (router closing)', async () => {
    const t = testFeed();
    const abort = new AbortController();
    const { port, state } = await serve(t.feed, { signal: abort.signal });
    const client = connect(port);
    await until(() => client.events.length === 1);
    abort.abort();
    await client.ended;
    await until(() => state.ended === 1);
    expect(t.listeners.size).toBe(0);
  });

  it('answers HEAD with the headers and ends at once', async () => {
    const t = testFeed();
    const { port, state } = await serve(t.feed);
    const res = await fetch(`http://127.0.0.1:${port}/events`, { method: 'HEAD', headers: { 'x-user': 'p1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    await until(() => state.ended === 1);
    expect(t.listeners.size).toBe(0);
  });

  it('a first since() that throws is an error envelope, not a stream', async () => {
    const feed: EventFeed = {
      since: async () => {
        throw new Error('store down');
      },
      subscribe: () => () => {},
    };
    const { port } = await serve(feed);
    const res = await fetch(`http://127.0.0.1:${port}/events`, { headers: { 'x-user': 'p1' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect((await res.json()).error.code).toBe('INTERNAL_ERROR');
  });
});

describe('streamLimiter', () => {
  it('counts per principal, frees on release (once), holds nothing for idle principals', () => {
    const limiter = streamLimiter(2);
    const a1 = limiter.acquire('a')!;
    const a2 = limiter.acquire('a')!;
    expect(limiter.acquire('a')).toBeNull();
    expect(limiter.acquire('b')).not.toBeNull();
    expect(limiter.open).toBe(3);
    a1();
    a1();
    expect(limiter.open).toBe(2);
    expect(limiter.acquire('a')).not.toBeNull();
    expect(limiter.acquire('a')).toBeNull();
    a2();
  });

  it('one stream too many is 429 RATE_LIMITED with Retry-After', async () => {
    const t = testFeed();
    const { port } = await serve(t.feed, {}, streamLimiter(2));
    const clients = [connect(port), connect(port)];
    await until(() => clients.every((c) => c.events.length === 1));
    const res = await fetch(`http://127.0.0.1:${port}/events`, { headers: { 'x-user': 'p1' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await res.json()).error.code).toBe('RATE_LIMITED');
    const other = await fetch(`http://127.0.0.1:${port}/events`, { headers: { 'x-user': 'p2', 'Last-Event-ID': '1' } });
    expect(other.status).toBe(200);
    await other.body?.cancel();
    clients[0].abort();
    await until(() => t.listeners.size <= 2);
    const again = connect(port);
    await until(() => again.events.length === 1);
    for (const c of [clients[1], again]) c.abort();
  });
});
