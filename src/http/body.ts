// JSON body parsing for POST routes: media type check, size limit, parse errors as envelopes.
import express, { type RequestHandler } from 'express';
import { BulkEmailError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** 415 unless the body is declared as JSON; then express.json with the router's limit. */
export function jsonBody(limit: string | number): RequestHandler[] {
  const parse = express.json({ limit, strict: false, type: () => true });
  const mediaType: RequestHandler = (req, _res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (!JSON_TYPE.test(type)) {
      next(
        new BulkEmailError(
          'UNSUPPORTED_MEDIA_TYPE',
          type ? `Content-Type ${type} is not supported; send application/json` : 'Send the body as application/json',
        ),
      );
      return;
    }
    next();
  };
  return [mediaType, parse];
}
