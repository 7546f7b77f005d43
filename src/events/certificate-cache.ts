// certificateCache(): SNS signing certificates by URL — downloaded once, parsed once, kept in a small LRU.
import { X509Certificate } from 'node:crypto';
import { GetFailure, boundedGet } from './bounded-get.js';

export interface CertificateCacheOptions {
  /** Replaces the HTTPS download (tests, apps with their own HTTP client). Resolves with the PEM text. */
  fetchCertificate?: (url: string) => Promise<string>;
  now: () => number;
  /** Certificates kept (least recently used dropped first). SNS signs with one or two per region at a time. */
  maxEntries?: number;
  /** A kept certificate is downloaded again after this long, so a rotated one is picked up. */
  ttlMs?: number;
  /** Deadline of one download, and of a `fetchCertificate` call. */
  timeoutMs?: number;
  /** Largest PEM read. SNS's are about 2 KB. */
  maxBytes?: number;
}

/** Why no certificate: `unreachable` may pass (answer 503 so SNS retries); `invalid` will not (answer 403). */
export class CertificateFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'CertificateFailure';
  }
}

export interface CertificateCache {
  /** The certificate at `url` (a URL the caller already checked), from the cache or downloaded. */
  get(url: string): Promise<X509Certificate>;
}

function parsePem(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CertificateFailure('invalid', 'the signing certificate is not a PEM X.509 certificate');
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CertificateFailure('unreachable', 'fetchCertificate timed out')), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Downloads with a deadline, no redirects and a size cap (or calls `fetchCertificate`), parses, and keeps up to
 * `maxEntries` certificates for `ttlMs`. Concurrent requests for one URL share one download. Failures are not kept,
 * so the next message tries again.
 */
export function certificateCache(options: CertificateCacheOptions): CertificateCache {
  const maxEntries = options.maxEntries ?? 16;
  const ttlMs = options.ttlMs ?? 24 * 3_600_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const kept = new Map<string, { cert: X509Certificate; until: number }>();
  const inFlight = new Map<string, Promise<X509Certificate>>();

  async function download(url: string): Promise<X509Certificate> {
    let pem: string;
    try {
      pem = options.fetchCertificate
        ? await withTimeout(Promise.resolve(options.fetchCertificate(url)), timeoutMs)
        : await boundedGet(url, { timeoutMs, maxBytes });
    } catch (err) {
      if (err instanceof CertificateFailure) throw err;
      if (err instanceof GetFailure && err.kind !== 'unreachable') {
        throw new CertificateFailure('invalid', `the signing certificate download ${err.message}`);
      }
      throw new CertificateFailure('unreachable', `the signing certificate could not be fetched (${describe(err)})`);
    }
    if (typeof pem !== 'string' || pem.length > maxBytes) {
      throw new CertificateFailure('invalid', 'the signing certificate is not PEM text of a sane size');
    }
    const cert = parsePem(pem);
    kept.delete(url);
    kept.set(url, { cert, until: options.now() + ttlMs });
    while (kept.size > maxEntries) kept.delete(kept.keys().next().value as string);
    return cert;
  }

  return {
    get(url) {
      const hit = kept.get(url);
      if (hit && hit.until > options.now()) {
        kept.delete(url);
        kept.set(url, hit);
        return Promise.resolve(hit.cert);
      }
      const pending = inFlight.get(url);
      if (pending) return pending;
      const started = download(url).finally(() => inFlight.delete(url));
      inFlight.set(url, started);
      return started;
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
