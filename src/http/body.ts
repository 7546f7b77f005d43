// JSON body parsing for POST routes: media type and charset checks, size limit, strict UTF-8, parse errors as envelopes.
import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { BulkEmailError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** The body must be UTF-8 (RFC 8259): invalid bytes would otherwise become U+FFFD and change the mail silently. */
function strictUtf8(_req: unknown, _res: unknown, buffer: Buffer): void {
  if (!isUtf8(buffer)) {
    throw Object.assign(new Error('The body is not valid UTF-8'), { type: 'entity.parse.failed' });
  }
}

/** 415 unless the body is declared as UTF-8 JSON; then express.json with the router's limit. */
export function jsonBody(limit: string | number): RequestHandler[] {
  const parse = express.json({ limit, strict: false, type: () => true, verify: strictUtf8 });
  const mediaType: RequestHandler = (req, _res, next) => {
    const [type, ...params] = (req.headers['content-type'] ?? '').split(';');
    const media = type.trim();
    if (!JSON_TYPE.test(media)) {
      next(
        new BulkEmailError(
          'UNSUPPORTED_MEDIA_TYPE',
          media ? `Content-Type ${media} is not supported; send application/json` : 'Send the body as application/json',
        ),
      );
      return;
    }
    const charset = params
      .map((p) => p.trim().split('='))
      .find(([name]) => name.trim().toLowerCase() === 'charset')?.[1]
      ?.trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      next(new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', `charset=${charset} is not supported; send UTF-8 JSON`));
      return;
    }
    next();
  };
  return [mediaType, parse];
}
