// JSON body reading for POST /: media type and charset, Content-Encoding, size limit, strict UTF-8 and JSON.parse.
import { isUtf8 } from 'node:buffer';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Request } from 'express';
import { BulkEmailError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** A Content-Type's media type (trimmed, as sent) and its `charset` parameter (lower-cased), if any. */
export function mediaTypeOf(contentType: string): { media: string; charset?: string } {
  const [type, ...params] = contentType.split(';');
  const charset = params
    .map((p) => p.trim().split('='))
    .find(([name]) => name.trim().toLowerCase() === 'charset')?.[1]
    ?.trim()
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  return { media: type.trim(), charset };
}

/** True for a charset that means UTF-8 (or none, which means UTF-8 here). */
export function isUtf8Charset(charset: string | undefined): boolean {
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** 415 unless the request declares UTF-8 JSON (no charset means UTF-8). */
function mediaTypeProblem(contentType: string | undefined): BulkEmailError | undefined {
  const { media, charset } = mediaTypeOf(contentType ?? '');
  if (!JSON_TYPE.test(media)) {
    return new BulkEmailError(
      'UNSUPPORTED_MEDIA_TYPE',
      media ? `Content-Type ${media} is not supported; send application/json` : 'Send the body as application/json',
    );
  }
  if (!isUtf8Charset(charset)) {
    return new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', `charset=${charset} is not supported; send UTF-8 JSON`);
  }
  return undefined;
}

/** The decoder for a Content-Encoding; `null` for identity. */
function decoder(encoding: string): Transform | null {
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new BulkEmailError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding ${encoding} is not supported; send identity, gzip, deflate or br`,
      );
  }
}

/** Reads off the rest of the request, then calls `done`: the client gets its answer after it finished sending. */
function drain(req: Request, done: () => void): void {
  if (req.complete || req.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    done();
  };
  req.once('end', once);
  req.once('close', once);
  req.resume();
}

const tooLarge = (limit: number) =>
  new BulkEmailError('PAYLOAD_TOO_LARGE', `The body is larger than the limit of ${limit} bytes`);
const cutShort = () => new BulkEmailError('INVALID_JSON', 'The body ended before its declared length');
const undecodable = (encoding: string | undefined) =>
  new BulkEmailError('INVALID_JSON', `The body does not decode as ${encoding} (is its Content-Encoding right?)`);

type BodyCallback = (err: BulkEmailError | null, body?: Buffer) => void;

/**
 * Reads the whole body (decoded, at most `limit` bytes after decoding) into one Buffer. Errors are envelopes:
 * 413 over the limit, 415 for an unknown Content-Encoding, 400 INVALID_JSON for bytes that do not decode or a
 * request that ends early. On error the rest of the request is read off before `done` is called.
 */
export function readBody(req: Request, limit: number, done: BodyCallback): void {
  let decoding: Transform | null;
  try {
    decoding = decoder(req.headers['content-encoding'] ?? '');
  } catch (err) {
    drain(req, () => done(err as BulkEmailError));
    return;
  }
  const declared = decoding ? Number.NaN : Number(req.headers['content-length']);
  if (declared > limit) {
    drain(req, () => done(tooLarge(limit)));
    return;
  }
  const source: NodeJS.ReadableStream = decoding ?? req;
  if (decoding) req.pipe(decoding);

  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  // One listener per event; `finish` detaches them all, so each runs at most until the first outcome.
  const finish = (err: BulkEmailError | null) => {
    if (finished) return;
    finished = true;
    source.removeListener('data', onData);
    source.removeListener('end', onEnd);
    source.removeListener('error', onError);
    req.removeListener('close', onAbort);
    if (decoding) {
      req.removeListener('error', onAbort);
      req.unpipe(decoding);
      decoding.on('error', () => undefined);
      decoding.destroy();
    }
    if (err) drain(req, () => done(err));
    else {
      if (decoding) req.resume();
      done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    }
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) finish(tooLarge(limit));
    else chunks.push(chunk);
  };
  const onEnd = () => finish(decoding || Number.isNaN(declared) || received === declared ? null : cutShort());
  // The request closed or failed before all of it arrived (a client that went away).
  const onAbort = () => {
    if (!req.complete) finish(cutShort());
  };
  const onError = () => finish(decoding ? undecodable(req.headers['content-encoding']) : cutShort());
  source.on('data', onData);
  source.once('end', onEnd);
  source.on('error', onError);
  if (decoding) req.on('error', onAbort);
  req.once('close', onAbort);
}

/** Where JSON.parse stopped, from V8's message, without echoing the body back. */
function whereJsonFailed(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const at = / at position (\d+)/.exec(message);
  if (at) return ` (at character ${at[1]})`;
  return /end of JSON input/i.test(message) ? ' (it ends too soon)' : '';
}

/**
 * Parses the bytes as UTF-8 JSON. Invalid UTF-8 is refused rather than decoded to U+FFFD (RFC 8259 asks for
 * UTF-8, and a replaced character would change the mail silently). A leading BOM is dropped; an empty body is `{}`,
 * as express.json reads it, so that it gets the validator's list of missing fields.
 */
export function parseJson(body: Buffer): unknown {
  if (!isUtf8(body)) throw new BulkEmailError('INVALID_JSON', 'The body is not valid UTF-8');
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BulkEmailError('INVALID_JSON', `The body is not valid JSON${whereJsonFailed(err)}`);
  }
}

/** Raw bytes of an unread body read off (not decoded, not kept) after an early answer; past this, the connection closes. */
export const DISCARD_LIMIT = 64 * 1024;

/**
 * For a request answered before its body was read (401 above all): reads off and throws away at most
 * `DISCARD_LIMIT` raw bytes, so that a small body leaves the connection reusable and a client that sends its whole
 * body before reading the answer still gets it; a larger body closes the connection instead. Nothing is decoded,
 * parsed or kept, so a compressed bomb costs no more than the bytes that arrive. Call it before answering: Node
 * would otherwise read off the whole body, however long, to keep the connection alive.
 */
export function discardUnreadBody(req: Request): void {
  if (req.complete || req.readableEnded || req.destroyed || req.listenerCount('data') > 0) return;
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) req.destroy(); // and with it the connection
  });
  req.resume();
}

export interface JsonBody {
  body: unknown;
  /** Decoded bytes read (for a body someone else parsed: the size of its JSON). */
  bytes: number;
  /** True when middleware before the router (`express.json()`) had already read and parsed the body. */
  parsedElsewhere: boolean;
}

/**
 * Reads POST /'s body: 415 unless it is declared as UTF-8 JSON, then reads (decoding gzip/deflate/br, at most
 * `limit` decoded bytes) and parses it. A body the app already read (its own `express.json()` before the router) is
 * used as it is and reported as `parsedElsewhere`.
 */
export function readJsonBody(req: Request, limit: number): Promise<JsonBody> {
  const problem = mediaTypeProblem(req.headers['content-type']);
  if (problem) {
    discardUnreadBody(req);
    return Promise.reject(problem);
  }
  if ((req as Request & { _body?: boolean })._body || req.readableEnded) {
    const bytes = req.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(req.body) ?? '');
    return Promise.resolve({ body: req.body, bytes, parsedElsewhere: true });
  }
  if (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined) {
    return Promise.resolve({ body: {}, bytes: 0, parsedElsewhere: false });
  }
  return new Promise((resolve, reject) => {
    readBody(req, limit, (err, raw) => {
      if (err) {
        reject(err);
        return;
      }
      try {
        const bytes = (raw as Buffer).length;
        resolve({ body: parseJson(raw as Buffer), bytes, parsedElsewhere: false });
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}
