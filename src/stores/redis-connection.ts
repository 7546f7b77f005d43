// Redis connections for the store, queue and limiter: own clients made from the app's options or instance, errors → 503.
import { Redis, type RedisOptions } from 'ioredis';
import { isBulkEmailError, serviceUnavailable } from '../errors.js';

/** ioredis options, a `redis://` URL, or an ioredis instance (its options are reused for our own connections). */
export type RedisConnection = RedisOptions | string | Redis;

function isInstance(connection: RedisConnection): connection is Redis {
  return (
    typeof connection === 'object' && typeof (connection as Redis).duplicate === 'function' && 'options' in connection
  );
}

/** The plain options behind a connection, with `overrides` on top. */
export function redisOptions(connection: RedisConnection, overrides: Partial<RedisOptions> = {}): RedisOptions {
  if (typeof connection === 'string') {
    const url = new URL(connection);
    const db = Number(url.pathname.slice(1) || 0);
    return {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: Number.isInteger(db) ? db : 0,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      ...overrides,
    };
  }
  const base = isInstance(connection) ? connection.options : connection;
  return { ...base, ...overrides };
}

/** A new client that this package owns (and closes). */
export function ownClient(connection: RedisConnection, overrides: Partial<RedisOptions>): Redis {
  return new Redis(redisOptions(connection, overrides));
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
export function redisGuard(client: Redis): <T>(run: () => Promise<T>) => Promise<T> {
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

/**
 * Waits for `work` (something that waits for `client` to connect, like a BullMQ call) but rejects with 503 after
 * `timeoutMs`, or as soon as a connection attempt fails while the client is not ready.
 */
export async function failFast<T>(client: Redis, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onError: ((err: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(serviceUnavailable(new Error(`Redis did not answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    onError = (err) => {
      if (client.status !== 'ready') reject(serviceUnavailable(err));
    };
    client.on('error', onError);
  });
  try {
    return await Promise.race([work, failure]);
  } finally {
    clearTimeout(timer);
    client.off('error', onError as (err: Error) => void);
  }
}

/** Closes a client we own: QUIT when connected, else drop the socket (a QUIT would wait for a reconnect). */
export async function closeClient(client: Redis): Promise<void> {
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
