// The one error boundary: every error under the mount path leaves here as a small envelope, whatever goes wrong.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { fail } from '../envelope.js';
import { BulkEmailError, cappedDetails, isBulkEmailError } from '../errors.js';
import type { Logger } from '../types.js';

/**
 * Most characters an error answer may take. The package's own answers stay far below (at most 101 details of
 * bounded text); one over it (a hook's own huge `details` or message) is answered as INTERNAL_ERROR instead.
 */
const MAX_ERROR_CHARS = 256 * 1024;

/** The envelope as JSON text, or undefined when it cannot be serialised or is too large to send. */
function envelopeText(err: BulkEmailError, correlationId?: string): string | undefined {
  try {
    const text = JSON.stringify(fail(err.code, err.message, cappedDetails(err.details), correlationId));
    return typeof text === 'string' && text.length <= MAX_ERROR_CHARS ? text : undefined;
  } catch {
    return undefined; // a circular, BigInt or throwing value in details
  }
}

function write(res: Response, status: number, text: string, headers?: Record<string, string>): void {
  if (headers) res.set(headers);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Headers the error path itself may have set before it failed (the app's own, CORS say, stay). */
function errorHeaderNames(err: unknown): string[] {
  const names = ['Retry-After'];
  try {
    if (isBulkEmailError(err) && err.headers) names.push(...Object.keys(err.headers));
  } catch {
    // headers that cannot even be listed were never set
  }
  return names;
}

/** The last resort: a fixed envelope that cannot fail to serialise, or a closed connection once headers are out. */
function sendMinimal(res: Response, correlationId: string, setByError: string[] = []): void {
  try {
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    for (const name of setByError) {
      try {
        res.removeHeader(name);
      } catch {
        // a name that is not a valid header name was never set
      }
    }
    const message = `Something went wrong on our side; quote correlation id ${correlationId}`;
    write(res, 500, JSON.stringify(fail('INTERNAL_ERROR', message, undefined, correlationId)));
  } catch {
    res.destroy();
  }
}

/** One log line that cannot throw: whatever the error holds, only bounded strings are read from it. */
function logFailure(logger: Logger, err: unknown, correlationId: string, req: Request, what: string): void {
  try {
    const e = err instanceof Error ? err : undefined;
    logger.error(
      {
        err: e
          ? { name: e.name, message: String(e.message).slice(0, 2000), stack: e.stack }
          : String(err).slice(0, 2000),
        code: isBulkEmailError(err) ? err.code : undefined,
        correlationId,
        method: req.method,
        path: String(req.originalUrl).slice(0, 2000),
      },
      what,
    );
  } catch {
    // a logger that throws must not take the answer with it
  }
}

/** Express error middleware (four arguments) closing the router. Never throws, never leaves the answer to Express. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let correlationId: string | undefined;
    try {
      const known = isBulkEmailError(err)
        ? err
        : err instanceof URIError
          ? // The router could not percent-decode a path parameter (`/%FF`): no job or route can have that name.
            new BulkEmailError('NOT_FOUND', 'The path is not valid percent-encoded UTF-8')
          : undefined;
      if (res.headersSent) {
        // An answer is out, whole or in part: no envelope can follow it; a cut-off one is not left hanging.
        if (!known) logFailure(logger, err, randomUUID(), req, 'express-bulk-email: unexpected error');
        if (!res.writableEnded) res.destroy();
        return;
      }
      if (known) {
        const text = envelopeText(known);
        if (text !== undefined) {
          if (known.retryAfter !== undefined) res.set('Retry-After', String(known.retryAfter));
          write(res, known.status, text, known.headers);
          return;
        }
        correlationId = randomUUID();
        logFailure(logger, err, correlationId, req, 'express-bulk-email: an error could not be sent as it was');
        sendMinimal(res, correlationId, errorHeaderNames(err));
        return;
      }
      correlationId = randomUUID();
      logFailure(logger, err, correlationId, req, 'express-bulk-email: unexpected error');
      sendMinimal(res, correlationId);
    } catch (failure) {
      correlationId ??= randomUUID();
      logFailure(logger, failure, correlationId, req, 'express-bulk-email: the error handler failed');
      sendMinimal(res, correlationId, errorHeaderNames(err));
    }
  };
}
