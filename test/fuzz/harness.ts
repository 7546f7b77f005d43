// The fuzz target: the router over a mocked SES and a spied store, behind a real keep-alive HTTP server.
import { type Agent, createServer, Agent as HttpAgent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { type BulkEmailOptions, ERROR_STATUS, memoryStore, type Principal, type Store } from '../../src/index.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

export const PRINCIPAL = 'fuzzer';

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export interface Spied {
  createJob: number;
  claimEntries: number;
  claimIdempotency: number;
  finishPending: number;
}

export interface FuzzTarget {
  url: string;
  h: HttpApp;
  store: Store;
  spied: Spied;
  /** Sends bytes as they are (no re-encoding), with these headers; `x-user` is added unless given. */
  post(body: Buffer | string, headers?: Record<string, string>, query?: string): Promise<Reply>;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  /** Any method and raw path (sent as written: percent-encoding included). */
  request(method: string, path: string, body?: Buffer, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

/** A memory store whose write paths count their calls. */
function spiedStore(spied: Spied): Store {
  const store = memoryStore();
  return {
    ...store,
    createJob: (...args) => {
      spied.createJob += 1;
      return store.createJob(...args);
    },
    claimEntries: (...args) => {
      spied.claimEntries += 1;
      return store.claimEntries(...args);
    },
    claimIdempotency: (...args) => {
      spied.claimIdempotency += 1;
      return store.claimIdempotency(...args);
    },
    finishPending: (...args) => {
      spied.finishPending += 1;
      return store.finishPending(...args);
    },
  };
}

function send(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  body: Buffer | undefined,
  headers: Record<string, string>,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, agent, headers: { 'x-user': PRINCIPAL, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
      });
      res.on('error', reject);
    });
    // A hang is a bug too: no answer within 10 s fails the case.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function startFuzzTarget(options: Partial<BulkEmailOptions<Principal>> = {}): Promise<FuzzTarget> {
  const spied: Spied = { createJob: 0, claimEntries: 0, claimIdempotency: 0, finishPending: 0 };
  const store = spiedStore(spied);
  const h = httpApp({ store, ...options });
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  return {
    url,
    h,
    store,
    spied,
    post: (body, headers = {}, query = '') =>
      send(
        agent,
        url,
        'POST',
        `/bulk-email${query ? `?${query}` : ''}`,
        typeof body === 'string' ? Buffer.from(body) : body,
        {
          'content-type': 'application/json',
          ...headers,
        },
      ),
    get: (path, headers = {}) => send(agent, url, 'GET', path, undefined, headers),
    request: (method, path, body, headers = {}) => send(agent, url, method, path, body, headers),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await h.close();
      await store.close();
    },
  };
}

const KNOWN_CODES = new Set(Object.keys(ERROR_STATUS));

/** A refusal as the contract says: 4xx, JSON, `success: false`, a known code matching the status, no stack trace. */
export function expectRefusal(reply: Reply, allowed?: readonly string[]): { code: string; details?: unknown } {
  const ctx = `${reply.status} ${reply.text.slice(0, 300)}`;
  expect(reply.status, ctx).toBeGreaterThanOrEqual(400);
  expect(reply.status, ctx).toBeLessThan(500);
  expect(reply.contentType, ctx).toMatch(/^application\/json/);
  const body = reply.json as { success?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
  expect(body?.success, ctx).toBe(false);
  const code = String(body.error?.code);
  expect(KNOWN_CODES.has(code), ctx).toBe(true);
  expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], ctx).toBe(reply.status);
  expect(typeof body.error?.message, ctx).toBe('string');
  expect(reply.text, ctx).not.toMatch(/\n\s+at /);
  if (allowed) expect(allowed, ctx).toContain(code);
  return { code, details: body.error?.details };
}

/** Built-in prototypes as they were when the suite started; `unpolluted()` fails on any change. */
export function prototypeGuard(): { check(): void } {
  const targets: [string, object][] = [
    ['Object.prototype', Object.prototype],
    ['Array.prototype', Array.prototype],
    ['Function.prototype', Function.prototype],
    ['String.prototype', String.prototype],
  ];
  const snapshot = targets.map(([name, target]) => [name, Reflect.ownKeys(target).map(String).sort().join(',')]);
  return {
    check() {
      targets.forEach(([name, target], i) => {
        expect(Reflect.ownKeys(target).map(String).sort().join(','), `${name} changed`).toBe(snapshot[i][1]);
      });
      const probe = {} as Record<string, unknown>;
      for (const key of ['polluted', 'isAdmin', 'fuzz', 'principalId', 'id', 'status']) {
        expect(probe[key], `({}).${key} is inherited`).toBeUndefined();
      }
    },
  };
}

/** Collects unhandled rejections and uncaught exceptions while installed. */
export function crashWatch(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (err: unknown) => errors.push(err);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}
