// snsEventsHandler(): the Express handler for POST /events/sns — read the raw body, hand it to the receiver, answer.
import type { Request, RequestHandler } from 'express';
import { ok } from '../envelope.js';
import { BulkEmailError } from '../errors.js';
import { isUtf8Charset, mediaTypeOf, readBody } from '../http/body.js';
import { sendJson } from '../http/send-json.js';
import type { SnsEventsView } from '../wire-types.js';
import type { SnsReceiver } from './sns-receiver.js';

export interface SnsEventsHandlerOptions {
  /** Largest body read, in bytes (default 1 MiB: SNS's largest message, 256 KiB, JSON-escaped, with room). */
  bodyLimit?: number;
}

// SNS posts text/plain; a subscription's DeliveryPolicy may set application/json instead.
const SNS_TYPES = /^(?:text\/plain|application\/(?:[\w.+-]+\+)?json)$/i;

function mediaTypeProblem(contentType: string | undefined): BulkEmailError | undefined {
  if (contentType === undefined) return undefined;
  const { media, charset } = mediaTypeOf(contentType);
  if (!SNS_TYPES.test(media)) {
    return new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', 'Send the SNS message as text/plain or application/json');
  }
  if (!isUtf8Charset(charset)) {
    return new BulkEmailError('UNSUPPORTED_MEDIA_TYPE', `charset=${charset} is not supported; send UTF-8`);
  }
  return undefined;
}

/** The body as the receiver takes it: what an app's own body parser already made of it, or the bytes read here. */
function bodyOf(req: Request, limit: number): Promise<string | Buffer | object> {
  if ((req as Request & { _body?: boolean })._body || req.readableEnded) {
    const body: unknown = req.body;
    const usable = typeof body === 'string' || (typeof body === 'object' && body !== null);
    return Promise.resolve(usable ? body : Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    readBody(req, limit, (err, body) => (err ? reject(err) : resolve(body ?? Buffer.alloc(0))));
  });
}

/**
 * POST /events/sns. Runs no `authenticate` (SNS calls it; the signature and the topic list are the check) and needs
 * no body parser before it. Answers 200 `{ type, message_id, duplicate }`; errors go to the router's error boundary:
 * 403 `INVALID_SIGNATURE`, 400 `INVALID_JSON`, 413, 415, 503 when the signing certificate could not be fetched, and
 * whatever `ingest` threw (SNS retries any 5xx, so a failed ingest is delivered again).
 *
 * Mount: `router.post('/events/sns', snsEventsHandler(receiver))`.
 */
export function snsEventsHandler(receiver: SnsReceiver, options: SnsEventsHandlerOptions = {}): RequestHandler {
  const limit = options.bodyLimit ?? 1024 * 1024;
  return (req, res, next) => {
    const problem = mediaTypeProblem(req.headers['content-type']);
    if (problem) {
      next(problem);
      return;
    }
    bodyOf(req, limit)
      .then((body) => receiver.receive(body))
      .then((receipt) => {
        const view: SnsEventsView = {
          type: receipt.type,
          message_id: receipt.messageId,
          duplicate: receipt.duplicate,
        };
        sendJson(res, 200, ok(view));
      })
      .catch(next);
  };
}
