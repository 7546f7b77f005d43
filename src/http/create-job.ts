// POST /: check the request, run the app's hooks in order, then store the job and queue its chunks (or plan a dry run).
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { acceptedView, jobView, ok } from '../envelope.js';
import {
  BulkEmailError,
  type ValidationDetail,
  forbidden,
  rateLimited,
  templateNotFound,
  validationError,
} from '../errors.js';
import { renderCheck } from '../render/render-check.js';
import { MAX_ENTRIES_PER_CALL, splitCalls } from '../sending/chunk.js';
import { burstFor } from '../sending/rate-limiter.js';
import { countRecipients } from '../sending/recipients.js';
import type {
  ChunkTask,
  EntryResult,
  HookContext,
  IndexedEntry,
  JobRecord,
  Principal,
  SendBulkEmailRequest,
  StoredResponse,
} from '../types.js';
import { stripUnsubscribeHeaders, unsubscribeHeaders } from '../unsubscribe/headers.js';
import { MAX_RECIPIENTS } from '../validation/schema.js';
import { type ParsedTemplateData, parsedTemplateData } from '../validation/semantic-checks.js';
import { admit } from './admission.js';
import { type RouteContext, principalOf } from './context.js';
import { IDEMPOTENCY_TTL_MS, fingerprint, idempotencyKey, scopedKey } from './idempotency.js';
import { preferredWait } from './prefer.js';
import { senderViolations } from './sender-policy.js';
import { allRecipients, applySuppression } from './suppression.js';
import { sendJson } from './send-json.js';
import { waitForJob } from './wait.js';
import type { DryRunPlan } from '../wire-types.js';

/** A request that passed every check: what to send, and the entries that end before sending. */
interface Prepared {
  request: SendBulkEmailRequest;
  /** Entries to send, with their original index, in index order. */
  entries: IndexedEntry[];
  /** Entries that end at once (SUPPRESSED, or INVALID_PARAMETER from a permissive render check). */
  initial: EntryResult[];
  recipients: number;
}

/** An SES answer (the SDK's `$metadata`) or a network failure on the way to SES, as opposed to a bug. */
function fromSes(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  return '$metadata' in err || typeof (err as { code?: unknown }).code === 'string';
}

async function checkTemplate<P extends Principal>(
  ctx: RouteContext<P>,
  request: SendBulkEmailRequest,
  parsed: ParsedTemplateData,
) {
  const { config } = ctx;
  if (config.renderCheck === 'off') return new Map<number, string>();
  const check = await renderCheck(request, {
    mode: config.renderCheck,
    merge: config.mergeTemplateData,
    fetchStoredTemplate: ctx.fetchStoredTemplate,
    variablesOf: ctx.variablesOf,
    parsed,
  });
  if (config.renderCheck === 'strict' && fromSes(check.fetchError)) {
    // Strict means nothing goes out unchecked: SES refused to show the stored template, so refuse the request.
    const sesCode = (check.fetchError as { name?: unknown }).name;
    const code = typeof sesCode === 'string' ? sesCode : 'Unknown';
    throw new BulkEmailError(
      'SES_ERROR',
      `SES refused GetEmailTemplate (${code}), so the template could not be checked; allow ses:GetEmailTemplate, retry later, or set renderCheck: 'permissive'`,
      { details: { ses_code: code } },
    );
  }
  if (check.skipped) {
    config.logger.warn(
      { code: 'EBE_RENDER_CHECK_SKIPPED', reason: check.skipped },
      'express-bulk-email: render check skipped',
    );
  }
  if (config.renderCheck === 'strict') {
    const problems = [...check.templateProblems, ...check.details];
    if (problems.length) throw validationError(problems);
    return new Map<number, string>();
  }
  if (check.templateProblems.length) {
    config.logger.warn(
      { code: 'EBE_INLINE_TEMPLATE', problems: check.templateProblems },
      'express-bulk-email: the inline template uses constructs SES does not render',
    );
  }
  return check.invalid;
}

/**
 * Everything that can refuse a request, in the contract's order. `parsed`: the template data strings the validator
 * parsed, reused by the render check.
 */
async function prepare<P extends Principal>(
  ctx: RouteContext<P>,
  hook: HookContext<P>,
  parsed: ParsedTemplateData,
): Promise<Prepared> {
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
    throw templateNotFound(requested.TemplateName ?? requested.TemplateArn ?? 'inline');
  }
  const request: SendBulkEmailRequest = {
    ...hook.request,
    DefaultContent: { ...hook.request.DefaultContent, Template: template },
  };
  const invalid = await checkTemplate(ctx, request, parsed);
  const toSkip = config.suppress ? await config.suppress(allRecipients(request.BulkEmailEntries), hook) : undefined;
  const outcome = applySuppression(request.BulkEmailEntries, toSkip ?? []);
  const initial: EntryResult[] = outcome.suppressed.map((index) => ({
    index,
    status: 'SUPPRESSED',
    error: 'every recipient is on the suppression list',
    attempts: 0,
  }));
  let entries = outcome.entries;
  if (invalid.size) {
    entries = [];
    for (const item of outcome.entries) {
      const error = invalid.get(item.index);
      if (error === undefined) entries.push(item);
      else initial.push({ index: item.index, status: 'INVALID_PARAMETER', error, attempts: 0 });
    }
    initial.sort((a, b) => a.index - b.index);
  }
  let recipients = 0;
  for (const item of entries) recipients += countRecipients(item.entry);
  return { request, entries, initial, recipients };
}

/** The SES calls the senders will make, as the dispatcher builds them: chunks of 50, split to the rate's burst. */
function planCalls(indexed: IndexedEntry[], rate: number | undefined) {
  const burst = rate ? burstFor(rate) : MAX_ENTRIES_PER_CALL * MAX_RECIPIENTS;
  return tasksOf('', indexed)
    .flatMap((task) => splitCalls(task.entries, burst))
    .map((call) => ({
      entries: call.map((c) => c.index),
      recipients: call.reduce((n, c) => n + countRecipients(c.entry), 0),
    }));
}

function tasksOf(jobId: string, entries: IndexedEntry[]): ChunkTask[] {
  const tasks: ChunkTask[] = [];
  for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_CALL) {
    tasks.push({ jobId, chunk: tasks.length, entries: entries.slice(i, i + MAX_ENTRIES_PER_CALL) });
  }
  return tasks;
}

/** Adds signed List-Unsubscribe headers to every entry to send. */
function withUnsubscribe<P extends Principal>(
  ctx: RouteContext<P>,
  prepared: Prepared,
  jobId: string,
  principalId: string,
) {
  const u = ctx.config.unsubscribe;
  if (!u) return prepared;
  const signing = {
    url: u.url,
    mailto: u.mailto,
    secret: u.secret,
    ttlSeconds: u.ttl,
    jobId,
    principalId,
    now: ctx.config.clock.now(),
  };
  const problems: ValidationDetail[] = [];
  const entries: IndexedEntry[] = [];
  for (const { index, entry } of prepared.entries) {
    const out = unsubscribeHeaders(entry, signing);
    if (typeof out === 'string') problems.push({ path: `/BulkEmailEntries/${index}/ReplacementHeaders`, message: out });
    else entries.push({ index, entry: out });
  }
  if (problems.length) throw validationError(problems.slice(0, 100));
  const template = prepared.request.DefaultContent.Template;
  const request =
    template?.Headers === undefined
      ? prepared.request
      : {
          ...prepared.request,
          DefaultContent: {
            ...prepared.request.DefaultContent,
            Template: { ...template, Headers: stripUnsubscribeHeaders(template.Headers) },
          },
        };
  return { ...prepared, request, entries };
}

async function estimate<P extends Principal>(ctx: RouteContext<P>, recipients: number, now: number) {
  await ctx.engine.ready;
  return admit({
    recipients,
    outstanding: await ctx.admission.outstanding(),
    remaining: ctx.engine.remaining24h(),
    rate: ctx.engine.rate(),
    policy: ctx.config.quota,
    now,
  });
}

async function dryRun<P extends Principal>(
  ctx: RouteContext<P>,
  hook: HookContext<P>,
  parsed: ParsedTemplateData,
): Promise<DryRunPlan> {
  const prepared = withUnsubscribe(ctx, await prepare(ctx, hook, parsed), 'dry-run', hook.principal.id);
  const { estimatedCompletionAt } = await estimate(ctx, prepared.recipients, ctx.config.clock.now());
  const rate = ctx.engine.rate();
  return {
    dry_run: true,
    entries: hook.request.BulkEmailEntries.length,
    recipients: prepared.recipients,
    calls: planCalls(prepared.entries, rate),
    suppressed: prepared.initial.filter((r) => r.status === 'SUPPRESSED').map((r) => r.index),
    invalid: prepared.initial
      .filter((r) => r.status === 'INVALID_PARAMETER')
      .map((r) => ({ index: r.index, error: r.error ?? '' })),
    send_rate: rate ?? null,
    estimated_completion_at: estimatedCompletionAt ?? null,
  };
}

/**
 * A new job id. randomUUID() builds its string by concatenation, which V8 keeps as a tree of pieces (~480 bytes) for
 * as long as the string lives, and a stored job keeps its id; `toLowerCase()` (a no-op: the UUID is lower-case hex)
 * returns it as one flat string (~60 bytes).
 */
function newJobId(): string {
  return randomUUID().toLowerCase();
}

async function createJob<P extends Principal>(
  ctx: RouteContext<P>,
  hook: HookContext<P>,
  parsed: ParsedTemplateData,
): Promise<JobRecord> {
  const { config } = ctx;
  const id = newJobId();
  const prepared = withUnsubscribe(ctx, await prepare(ctx, hook, parsed), id, hook.principal.id);
  const { entries, initial, recipients } = prepared;
  if (Number.isFinite(config.maxActiveJobs)) {
    const active = await config.store.countActiveJobs(hook.principal.id);
    if (active >= config.maxActiveJobs) {
      throw rateLimited(30, `You already have ${active} unfinished jobs (limit ${config.maxActiveJobs})`);
    }
  }
  const now = config.clock.now();
  const { estimatedCompletionAt } = await estimate(ctx, recipients, now);
  const at = new Date(now).toISOString();
  const suppressed = initial.filter((r) => r.status === 'SUPPRESSED').length;
  const job: JobRecord = {
    id,
    principalId: hook.principal.id,
    status: entries.length === 0 ? 'completed' : 'queued',
    createdAt: at,
    updatedAt: at,
    entries: hook.request.BulkEmailEntries.length,
    recipients,
    counts: { sent: 0, failed: initial.length, pending: entries.length, canceled: 0, suppressed, unknown: 0 },
  };
  if (entries.length === 0) job.completedAt = at;
  if (estimatedCompletionAt) job.estimatedCompletionAt = entries.length === 0 ? at : estimatedCompletionAt;
  const { BulkEmailEntries: _entries, ...content } = prepared.request;
  await config.store.createJob(job, { content }, initial);
  try {
    if (entries.length) await config.queue.enqueue(tasksOf(id, entries));
  } catch (err) {
    await config.store
      .finishPending(id, { status: 'FAILED', error: 'the job could not be queued' })
      .catch(() => undefined);
    throw err;
  }
  ctx.admission.track(id, recipients);
  config.emit({ type: 'job.created', jobId: id, principalId: job.principalId, entries: job.entries, recipients, at });
  if (job.status === 'completed')
    config.emit({ type: 'job.completed', jobId: id, status: job.status, counts: job.counts, at });
  config.logger.info({ jobId: id, entries: job.entries, recipients }, 'express-bulk-email: job created');
  return job;
}

function isDryRun(req: Request): boolean {
  if (!req.url.includes('?')) return false; // no query string to parse
  const value = req.query.dry_run;
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw validationError({ path: '/dry_run', message: 'dry_run must be true or false' });
}

export function createJobHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const key = idempotencyKey(req);
    const dry = isDryRun(req);
    const body: unknown = req.body;
    const parsed = parsedTemplateData();
    const problems = ctx.validator(body, { parsed });
    if (problems.length) throw validationError(problems);
    const hook: HookContext<P> = { principal, request: body as SendBulkEmailRequest, req };

    if (dry) {
      // Stores nothing, the idempotency key included: a dry run can be repeated freely.
      sendJson(res, 200, ok(await dryRun(ctx, hook, parsed)));
      return;
    }

    let claimed: string | undefined;
    let print = '';
    if (key !== undefined) {
      const store = ctx.config.store;
      claimed = scopedKey(principal.id, key);
      print = fingerprint(body);
      const claim = await store.claimIdempotency(claimed, print, IDEMPOTENCY_TTL_MS);
      if (claim.state === 'replay') {
        res.setHeader('Idempotent-Replayed', 'true');
        sendJson(res, claim.response.status, claim.response.body);
        return;
      }
      if (claim.state === 'mismatch') {
        throw new BulkEmailError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different body',
        );
      }
      if (claim.state === 'in_flight') {
        throw new BulkEmailError(
          'IDEMPOTENCY_IN_FLIGHT',
          'A request with this Idempotency-Key is still being processed',
          {
            retryAfter: 1,
          },
        );
      }
    }

    let job: JobRecord;
    try {
      job = await createJob(ctx, hook, parsed);
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
        sendJson(res, 200, ok(jobView(finished)));
        return;
      }
    }
    sendJson(res, accepted.status, accepted.body);
  };
}
