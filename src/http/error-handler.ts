// The one error boundary: every error under the mount path leaves here as an envelope.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { fail } from '../envelope.js';
import { BulkEmailError, isBulkEmailError } from '../errors.js';
import type { Logger } from '../types.js';

export function sendError(res: Response, err: BulkEmailError, correlationId?: string): void {
  if (res.headersSent) return;
  if (err.retryAfter !== undefined) res.set('Retry-After', String(err.retryAfter));
  if (err.headers) res.set(err.headers);
  res.status(err.status).json(fail(err.code, err.message, err.details, correlationId));
}

/** Express error middleware (four arguments) closing the router. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = isBulkEmailError(err)
      ? err
      : err instanceof URIError
        ? // The router could not percent-decode a path parameter (`/%FF`): no job or route can have that name.
          new BulkEmailError('NOT_FOUND', 'The path is not valid percent-encoded UTF-8')
        : undefined;
    if (known) {
      sendError(res, known);
      return;
    }
    const correlationId = randomUUID();
    logger.error(
      {
        err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
        correlationId,
        method: req.method,
        path: req.originalUrl,
      },
      'express-bulk-email: unexpected error',
    );
    sendError(
      res,
      new BulkEmailError('INTERNAL_ERROR', `Something went wrong on our side; quote correlation id ${correlationId}`),
      correlationId,
    );
  };
}
