// The one error boundary: every error under the mount path leaves here as an envelope.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { fail } from '../envelope.js';
import { BulkEmailError, isBulkEmailError } from '../errors.js';
import type { Logger } from '../types.js';

/** body-parser marks its errors with `type`; map them to the contract's codes. */
function fromBodyParser(err: { type?: string; message?: string; limit?: number }): BulkEmailError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new BulkEmailError('PAYLOAD_TOO_LARGE', `The body is larger than the limit of ${err.limit ?? '?'} bytes`);
    case 'entity.parse.failed':
      return new BulkEmailError('INVALID_JSON', 'The body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 encoded application/json');
    case 'request.aborted':
    case 'request.size.invalid':
      return new BulkEmailError('INVALID_JSON', 'The body ended before its declared length');
    case 'stream.not.readable':
      return new BulkEmailError('INVALID_JSON', 'The body was already read by another middleware');
    default:
      break;
  }
  // body-parser's other client errors carry no type: a body that does not decompress, for one.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true) {
    if (status === 413) return new BulkEmailError('PAYLOAD_TOO_LARGE', 'The body is larger than the limit');
    if (status === 415) return new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', 'The body encoding is not supported');
    return new BulkEmailError('INVALID_JSON', 'The body could not be read as JSON (is its Content-Encoding right?)');
  }
  return undefined;
}

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
        : typeof err === 'object' && err !== null
          ? fromBodyParser(err as { type?: string })
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
