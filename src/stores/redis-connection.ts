// Redis connections for the store and queue: the accepted shapes checked at build time, own clients, errors → 503.
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { isBulkEmailError, serviceUnavailable } from '../errors.js';
import { loadIoredis } from './ioredis-peer.js';

const ioredis = loadIoredis();

/**
 * Where the package's own connections go: a `redis://` / `rediss://` URL, ioredis options that name a server
 * (`{ host, port }`, `{ path }` or `{ sentinels, name }`), an ioredis `Redis` instance (its options are reused; the
 * instance itself is left alone), or an ioredis `Cluster` (its nodes and options are reused).
 */
export type RedisConnection = RedisOptions | string | Redis | Cluster;

/** A client of ours: standalone (or Sentinel) or Cluster. */
export type RedisClient = Redis | Cluster;

/** A connection checked once at build time. */
export type CheckedConnection =
  | { kind: 'url'; url: string }
  | { kind: 'options'; options: RedisOptions }
  | { kind: 'redis'; instance: Redis }
  | { kind: 'cluster'; instance: Cluster };

const SHAPES =
  'a redis:// or rediss:// URL, ioredis options naming a server ({ host, port }, { path } or { sentinels, name }), an ioredis Redis instance or an ioredis Cluster';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string that is not a redis:// or rediss:// URL';
  if (typeof value !== 'object') return typeof value;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object that names no server';
}

function isRedisInstance(value: object): value is Redis {
  if (value instanceof ioredis.Redis) return true;
  // Another copy of ioredis (a different version in the app's tree) fails instanceof: recognise it by its shape.
  const v = value as Partial<Redis>;
  return (
    v.constructor?.name === 'Redis' &&
    typeof v.duplicate === 'function' &&
    typeof v.status === 'string' &&
    typeof v.options === 'object'
  );
}

function isClusterInstance(value: object): value is Cluster {
  return value instanceof ioredis.Cluster || (value as Partial<Cluster>).isCluster === true;
}

/**
 * Checks `connection` at build time: anything the package cannot use is a `TypeError` saying what to pass, never
 * replaced by ioredis's default 127.0.0.1:6379. A Cluster is used as it is: every key of the store and of the queue is
 * under one hash tag, so each script's keys share a slot.
 */
export function checkConnection(connection: unknown, who: string): CheckedConnection {
  if (typeof connection === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(connection);
    } catch {
      url = undefined;
    }
    if (url && (url.protocol === 'redis:' || url.protocol === 'rediss:')) return { kind: 'url', url: connection };
  } else if (typeof connection === 'object' && connection !== null) {
    if (isClusterInstance(connection)) return { kind: 'cluster', instance: connection };
    if (isRedisInstance(connection)) return { kind: 'redis', instance: connection };
    const proto = Object.getPrototypeOf(connection);
    const o = connection as RedisOptions;
    const plain = proto === Object.prototype || proto === null;
    const named = o.host !== undefined || o.port !== undefined || o.path !== undefined || o.sentinels !== undefined;
    if (plain && named) return { kind: 'options', options: o };
  }
  throw new TypeError(`${who}: connection must be ${SHAPES}; got ${describeValue(connection)}`);
}

/** A new client that this package owns (and closes), to the server `connection` names, with `overrides` on top. */
export function ownClient(connection: CheckedConnection, overrides: Partial<RedisOptions>): RedisClient {
  switch (connection.kind) {
    case 'url':
      return new ioredis.Redis(connection.url, overrides);
    case 'options':
      return new ioredis.Redis({ ...connection.options, ...overrides });
    case 'redis':
      return connection.instance.duplicate(overrides);
    case 'cluster': {
      const { enableOfflineQueue, keyPrefix, ...node } = overrides;
      return connection.instance.duplicate([], {
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        ...(keyPrefix === undefined ? {} : { keyPrefix }),
        redisOptions: { ...connection.instance.options.redisOptions, ...node },
      });
    }
  }
}

/** Redis answers that mean "not serving right now" rather than "your command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|OOM|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

function isCommandError(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(e.message ?? '');
}

/**
 * Runs commands so that an unreachable Redis surfaces as 503 `SERVICE_UNAVAILABLE` quickly: once a connection attempt
 * has failed, calls fail at once until the client is ready again (ioredis keeps reconnecting by itself); a script bug
 * (a plain ReplyError) is rethrown as it is.
 */
export function redisGuard(client: RedisClient): <T>(run: () => Promise<T>) => Promise<T> {
  let down = false;
  client.on('error', () => {
    down = true;
  });
  client.on('ready', () => {
    down = false;
  });
  return async (run) => {
    if (client.status === 'end' || (down && client.status !== 'ready')) {
      throw serviceUnavailable(new Error(`Redis connection is ${client.status}`));
    }
    try {
      return await run();
    } catch (err) {
      if (isBulkEmailError(err) || isCommandError(err)) throw err;
      throw serviceUnavailable(err);
    }
  };
}

/** Closes a client we own: QUIT when connected, else drop the socket (a QUIT would wait for a reconnect). */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect();
}
