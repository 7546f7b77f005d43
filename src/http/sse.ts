// Server-Sent Events to one client: frames, heartbeat, Last-Event-ID, coalescing under backpressure, clean close.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger } from '../logger.js';
import type { Logger } from '../types.js';

/** One event: `event:` name, `id:` (what the client sends back as Last-Event-ID), `data:` as one line of JSON. */
export interface SseEvent {
  event: string;
  id: string;
  data: unknown;
}

/**
 * What a stream shows. The stream pulls: `subscribe` only says "something may have changed", and the stream then asks
 * `since(lastId)` for what the client has not seen. So a client is sent the latest state, never a backlog, and a
 * change between subscribing and the first `since` cannot be missed (the stream subscribes first).
 */
export interface EventFeed {
  /**
   * Events after the one with `lastEventId` (null: the client has seen none) — normally just the current state, or
   * nothing when it has not changed. Keep it to a few events. An event named `done` is the last: the stream ends
   * after writing it.
   */
  since(lastEventId: string | null): Promise<SseEvent[]>;
  /** Calls `onChange` when the state may have changed; returns the function that unsubscribes. */
  subscribe(onChange: () => void): () => void;
}

export interface SseOptions {
  /** A comment line is written this often so that proxies and clients keep the connection. Default 15,000 ms. */
  heartbeatMs?: number;
  /** At most one state per this many ms (changes in between are folded into the next). Default 250 ms. */
  minIntervalMs?: number;
  /** A client that has not drained the socket for this long is disconnected (it may reconnect). Default 60,000 ms. */
  stallTimeoutMs?: number;
  /** Aborting ends the stream (the router closing). */
  signal?: AbortSignal;
  logger?: Logger;
}

const DONE = 'done';
const MAX_LAST_EVENT_ID = 256;
const FIELD = /^[^\r\n\0]*$/;

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  // no-transform: compression middleware (and proxies) must not buffer the stream.
  'Cache-Control': 'no-cache, no-transform',
  // nginx: do not buffer this response.
  'X-Accel-Buffering': 'no',
} as const;

/** The client's `Last-Event-ID`, or null when absent or unusable (over 256 characters, or a line break or NUL). */
export function lastEventId(req: IncomingMessage): string | null {
  const value = req.headers['last-event-id'];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LAST_EVENT_ID) return null;
  return FIELD.test(value) ? value : null;
}

/** The text of one event. Throws a TypeError for a name or id with a line break or NUL (a bug in the feed). */
export function sseFrame(event: SseEvent): string {
  if (!FIELD.test(event.event) || !FIELD.test(event.id) || event.event.length === 0) {
    throw new TypeError('SSE event names and ids must be non-empty single lines without NUL');
  }
  // JSON.stringify escapes CR and LF inside strings, so the data is always one line.
  return `event: ${event.event}\nid: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * Answers `req` with the event stream of `feed` and resolves when the stream is over (the client left, `done` was
 * written, the stall timeout or `signal` ended it). The first `since()` runs before any byte is written: if it throws,
 * streamEvents rejects with its error and the caller answers with an error envelope. Later failures end the stream
 * (logged); the client reconnects with Last-Event-ID.
 *
 * Memory per stream is bounded whatever the client does: while the socket has not drained, nothing is fetched or
 * queued — only a "changed" flag is kept — and the latest state is fetched when it drains. So the server holds at most
 * the socket's buffer plus one state per slow client, and a `done` is still delivered (fetched after the drain, or
 * found by the client's reconnect).
 */
export async function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  feed: EventFeed,
  options: SseOptions = {},
): Promise<void> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const minIntervalMs = options.minIntervalMs ?? 250;
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const logger = options.logger ?? silentLogger;
  const { signal } = options;

  let lastId = lastEventId(req);
  let changed = false;
  let onChange = () => {
    changed = true;
  };
  const unsubscribe = feed.subscribe(() => onChange());
  let first: SseEvent[];
  try {
    first = await feed.since(lastId);
  } catch (err) {
    unsubscribe();
    throw err;
  }
  if (res.destroyed || res.writableEnded || signal?.aborted) {
    unsubscribe();
    return;
  }
  if (req.method === 'HEAD') {
    unsubscribe();
    res.writeHead(200, SSE_HEADERS);
    res.end();
    return;
  }

  return new Promise<void>((resolve) => {
    let closed = false;
    let fetching = false;
    let draining = false;
    let lastWriteAt = 0;
    let throttle: NodeJS.Timeout | undefined;
    let stall: NodeJS.Timeout | undefined;

    const cleanup = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(throttle);
      clearTimeout(stall);
      unsubscribe();
      res.off('drain', onDrain);
      res.off('close', cleanup);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      cleanup();
      res.end();
    };
    const onStall = () => {
      logger.info({ stallTimeoutMs }, 'express-bulk-email: event stream client stopped reading; disconnected');
      cleanup();
      res.destroy();
    };
    const onDrain = () => {
      draining = false;
      clearTimeout(stall);
      pump();
    };
    const wrote = (ok: boolean) => {
      if (ok || draining) return;
      draining = true;
      stall = setTimeout(onStall, stallTimeoutMs);
    };

    /** Writes events in order; true when the stream ended (a `done` was among them). */
    const write = (events: SseEvent[]): boolean => {
      for (const event of events) {
        const frame = sseFrame(event);
        lastId = event.id;
        if (event.event === DONE) {
          cleanup();
          res.end(frame);
          return true;
        }
        wrote(res.write(frame));
      }
      if (events.length) lastWriteAt = Date.now();
      return false;
    };

    const pump = () => {
      if (closed || fetching || draining || !changed) return;
      const wait = lastWriteAt + minIntervalMs - Date.now();
      if (wait > 0) {
        throttle ??= setTimeout(() => {
          throttle = undefined;
          pump();
        }, wait);
        return;
      }
      changed = false;
      fetching = true;
      feed.since(lastId).then(
        (events) => {
          fetching = false;
          if (!closed && !write(events)) pump();
        },
        (err: unknown) => {
          fetching = false;
          logger.warn(
            { err: (err as Error)?.message },
            'express-bulk-email: event stream could not read the state; closed',
          );
          cleanup();
          res.end();
        },
      );
    };

    const heartbeat = setInterval(() => {
      if (!draining) wrote(res.write(': keep-alive\n\n'));
    }, heartbeatMs);
    res.on('drain', onDrain);
    res.on('close', cleanup);
    signal?.addEventListener('abort', onAbort, { once: true });

    res.writeHead(200, SSE_HEADERS);
    res.socket?.setNoDelay(true);
    if (write(first)) return;
    if (first.length === 0) res.flushHeaders();
    onChange = () => {
      changed = true;
      pump();
    };
    pump();
  });
}
