// POST /: check the request, run the app's hooks in order, store the job and queue its chunks.
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { acceptedView, jobView, ok } from '../envelope.js';
import { BulkEmailError, forbidden, validationError } from '../errors.js';
import { countRecipients } from '../sending/recipients.js';
import type {
  BulkEmailEntry,
  ChunkTask,
  EntryResult,
  HookContext,
  JobRecord,
  Principal,
  SendBulkEmailRequest,
  StoredResponse,
} from '../types.js';
import { type RouteContext, principalOf } from './context.js';
import { IDEMPOTENCY_TTL_MS, fingerprint, idempotencyKey, scopedKey } from './idempotency.js';
import { preferredWait } from './prefer.js';
import { senderViolations } from './sender-policy.js';
import { allRecipients, applySuppression } from './suppression.js';
import { waitForJob } from './wait.js';

const CHUNK_SIZE = 50;

/** Everything that can refuse a request, in the contract's order; returns the request to store. */
async function checkRequest<P extends Principal>(ctx: RouteContext<P>, hook: HookContext<P>) {
  const { config } = ctx;
  if (config.validate) await config.validate(hook.request, hook);
  if (config.authorize) {
    const allowed = await config.authorize(hook);
    if (allowed === false) throw forbidden('You are not allowed to send this request');
  }
  if (config.senders) {
    const allowed = await config.senders(hook.principal, hook);
    if (allowed) {
      const problems = senderViolations(hook.request, allowed);
      if (problems.length) throw new BulkEmailError('FORBIDDEN', problems[0].message, { details: problems });
    }
  }
  const requested = hook.request.DefaultContent.Template ?? {};
  const template = config.resolveTemplate ? await config.resolveTemplate(requested, hook) : requested;
  if (template === null || template === undefined) {
    const name = requested.TemplateName ?? requested.TemplateArn ?? 'inline';
    throw new BulkEmailError('TEMPLATE_NOT_FOUND', `No template named "${name}"`, { details: { template: name } });
  }
  const request: SendBulkEmailRequest = { ...hook.request, DefaultContent: { ...hook.request.DefaultContent, Template: template } };
  const toSkip = config.suppress ? await config.suppress(allRecipients(request.BulkEmailEntries), hook) : undefined;
  const { entries, suppressed } = applySuppression(request.BulkEmailEntries, toSkip ?? []);
  return { request, entries, suppressed };
}

function chunksOf(jobId: string, entries: Map<number, BulkEmailEntry>): ChunkTask[] {
  const tasks: ChunkTask[] = [];
  let current: ChunkTask | undefined;
  for (const [index, entry] of entries) {
    if (!current || current.entries.length === CHUNK_SIZE) {
      current = { jobId, chunk: tasks.length, entries: [] };
      tasks.push(current);
    }
    current.entries.push({ index, entry });
  }
  return tasks;
}

async function createJob<P extends Principal>(ctx: RouteContext<P>, hook: HookContext<P>): Promise<JobRecord> {
  const { config } = ctx;
  const { request, entries, suppressed } = await checkRequest(ctx, hook);
  if (Number.isFinite(config.maxActiveJobs)) {
    const active = await config.store.countActiveJobs(hook.principal.id);
    if (active >= config.maxActiveJobs) {
      throw new BulkEmailError('RATE_LIMITED', `You already have ${active} unfinished jobs (limit ${config.maxActiveJobs})`, {
        retryAfter: 30,
      });
    }
  }
  let recipients = 0;
  for (const entry of entries.values()) recipients += countRecipients(entry);
  const now = new Date(config.clock.now());
  const rate = ctx.engine.rate();
  const id = randomUUID();
  const job: JobRecord = {
    id,
    principalId: hook.principal.id,
    status: entries.size === 0 ? 'completed' : 'queued',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    entries: request.BulkEmailEntries.length,
    recipients,
    counts: { sent: 0, failed: suppressed.length, pending: entries.size, canceled: 0, suppressed: suppressed.length, unknown: 0 },
  };
  if (entries.size === 0) job.completedAt = job.createdAt;
  if (rate) job.estimatedCompletionAt = new Date(now.getTime() + Math.ceil((recipients / rate) * 1000)).toISOString();
  const { BulkEmailEntries: _entries, ...content } = request;
  const initial: EntryResult[] = suppressed.map((index) => ({
    index,
    status: 'SUPPRESSED',
    error: 'every recipient is on the suppression list',
    attempts: 0,
  }));
  await config.store.createJob(job, { content }, initial);
  try {
    if (entries.size) await config.queue.enqueue(chunksOf(id, entries));
  } catch (err) {
    await config.store
      .finishPending(id, { status: 'FAILED', error: 'the job could not be queued', cancel: false })
      .catch(() => undefined);
    throw err;
  }
  config.emit({ type: 'job.created', jobId: id, principalId: job.principalId, entries: job.entries, recipients, at: job.createdAt });
  config.logger.info({ jobId: id, entries: job.entries, recipients }, 'express-bulk-email: job created');
  return job;
}

export function createJobHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const key = idempotencyKey(req);
    const body: unknown = req.body;
    const problems = ctx.validator(body);
    if (problems.length) throw validationError(problems);
    const request = body as SendBulkEmailRequest;
    const hook: HookContext<P> = { principal, request, req };

    let claimed: string | undefined;
    let print = '';
    if (key !== undefined) {
      const store = ctx.config.store;
      claimed = scopedKey(principal.id, key);
      print = fingerprint(body, req.originalUrl.includes('dry_run') ? 'dry' : '');
      const claim = await store.claimIdempotency(claimed, print, IDEMPOTENCY_TTL_MS);
      if (claim.state === 'replay') {
        res.set('Idempotent-Replayed', 'true').status(claim.response.status).json(claim.response.body);
        return;
      }
      if (claim.state === 'mismatch') {
        throw new BulkEmailError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different body');
      }
      if (claim.state === 'in_flight') {
        throw new BulkEmailError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', {
          retryAfter: 1,
        });
      }
    }

    let job: JobRecord;
    try {
      job = await createJob(ctx, hook);
    } catch (err) {
      if (claimed) await ctx.config.store.releaseIdempotency(claimed).catch(() => undefined);
      throw err;
    }
    const accepted: StoredResponse = { status: 202, body: ok(acceptedView(job)) };
    if (claimed) await ctx.config.store.completeIdempotency(claimed, print, accepted, IDEMPOTENCY_TTL_MS);

    const wait = preferredWait(req);
    if (wait !== undefined && wait > 0) {
      res.set('Preference-Applied', `wait=${wait}`);
      const finished = await waitForJob(ctx.config.store, job.id, wait * 1000, res);
      if (finished) {
        res.status(200).json(ok(jobView(finished)));
        return;
      }
    }
    res.status(accepted.status).json(accepted.body);
  };
}
