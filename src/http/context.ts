// What the route handlers share: the resolved config, the compiled validator and the sending engine.
import type { Request } from 'express';
import { BulkEmailError } from '../errors.js';
import type { DeliveryFeedback } from '../events/delivery-feedback.js';
import type { SnsReceiver } from '../events/sns-receiver.js';
import type { RouterConfig } from '../options.js';
import type { SendingView } from '../envelope.js';
import type { EmailTemplateContent, Principal } from '../types.js';
import type { TemplateVariablesOf } from '../render/template-cache.js';
import type { Admission } from './admission.js';
import type { RequestValidator } from '../validation/validator.js';
import { discardUnreadBody } from './body.js';
import type { JobWatcher } from './job-watch.js';
import type { StreamLimiter } from './stream-limiter.js';
import type { JobWebhooks } from '../webhooks/job-webhooks.js';

export interface Engine {
  /** Recipients per second the senders use now, and where that figure comes from. */
  sending(): SendingView;
  /** Max24HourSend − SentLast24Hours as last read; -1 = unlimited; null = unknown (fixed rate, or never read). */
  remaining24h(): number | null;
  /** Resolves once the account has been read (at once for a fixed rate); never rejects. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface RouteContext<P extends Principal = Principal> {
  config: RouterConfig<P>;
  validator: RequestValidator;
  engine: Engine;
  admission: Admission;
  /** Loads stored templates (GetEmailTemplate, cached) for the render check. */
  fetchStoredTemplate: (name: string) => Promise<EmailTemplateContent | null>;
  /** The variables of a template, remembered across requests (the render check's `templateCache()`). */
  variablesOf: TemplateVariablesOf;
  /** SES delivery events, suppression lists and the reputation guard. */
  feedback: DeliveryFeedback;
  /** POST /events/sns's receiver, when `events.sns` is set. */
  sns?: SnsReceiver;
  /**
   * Webhooks out, when the `webhooks` option is set: `webhooks?.jobEvent('job.paused', job)` queues a job event
   * (job ends, cancels and guard pauses are queued on their own).
   */
  webhooks?: JobWebhooks;
  /** GET /:id/events: one shared store poll per watched job, and the per-principal stream count. */
  streams: { watcher: JobWatcher; limiter: StreamLimiter; closing: AbortSignal };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Runs `authenticate`; UNAUTHORIZED without a principal, INTERNAL_ERROR for a principal without an id (or with
 * control characters in it). When it refuses, the body, if any, is thrown away unread (see `discardUnreadBody`).
 */
export async function principalOf<P extends Principal>(ctx: RouteContext<P>, req: Request): Promise<P> {
  let principal: P | null | undefined;
  try {
    principal = await ctx.config.authenticate(req);
  } catch (err) {
    discardUnreadBody(req); // a refusal thrown by the hook (rateLimited(), forbidden()) reads no body either
    throw err;
  }
  if (principal === null || principal === undefined || (principal as unknown) === false) {
    discardUnreadBody(req);
    throw new BulkEmailError('UNAUTHORIZED', 'Missing or invalid credentials');
  }
  if (typeof principal !== 'object' || typeof principal.id !== 'string' || principal.id.length === 0) {
    throw new TypeError('authenticate() returned a principal without a string id');
  }
  // Ids name store keys and log lines: no control characters (the Redis store keeps `\0r:<id>` fields of its own).
  if (CONTROL.test(principal.id)) throw new TypeError('authenticate() returned a principal id with control characters');
  return principal;
}
