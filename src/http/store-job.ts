// The last steps of POST /: store the job (the store checks the principal's limits) and hand its entries to the queue.
import { cutTasks } from '../sending/chunk.js';
import { entryError } from '../sending/entry-errors.js';
import { isWeight, shareWeight } from '../sending/fair-share.js';
import type { IndexedEntry, JobRecord, Principal } from '../types.js';
import type { RouteContext } from './context.js';
import type { Draft } from './draft.js';
import { entryAddresses } from './suppression.js';

/**
 * Hands a stored job's entries to the queue as tasks of up to 50 entries (the dry run plans from the same cut), with
 * the principal's weight when the `weight` option gives one.
 */
export async function enqueueJob<P extends Principal>(
  ctx: RouteContext<P>,
  job: JobRecord,
  entries: IndexedEntry[],
  weight?: number,
) {
  const tasks = cutTasks(job.id, entries, ctx.config.maxRecipientsPerCall);
  if (!tasks.length) return;
  const notBefore = job.sendAt === undefined ? undefined : Date.parse(job.sendAt);
  await ctx.config.queue.add({
    jobId: job.id,
    principalId: job.principalId,
    tasks,
    notBefore,
    ...(weight === undefined ? {} : { weight }),
  });
}

/**
 * The principal's share weight from the `weight` option (undefined without it): null/undefined counts as 1; anything
 * but a positive finite number is logged and counts as 1 (a bad weight must not stop a tenant's mail); clamped to
 * [0.001, 1000]. A hook that throws fails the request, before anything is stored, as every other hook does.
 */
export async function weightOf<P extends Principal>(
  ctx: RouteContext<P>,
  draft: Draft<P>,
): Promise<number | undefined> {
  const hook = ctx.config.weight;
  if (!hook) return undefined;
  const value: unknown = await hook(draft.hook.principal, draft.hook);
  if (value === undefined || value === null) return 1;
  if (!isWeight(value)) {
    ctx.config.logger.warn(
      { code: 'EBE_WEIGHT_INVALID', principalId: draft.hook.principal.id, weight: String(value) },
      'express-bulk-email: weight() must return a positive finite number (or nothing for 1); this job counts with weight 1',
    );
    return 1;
  }
  return shareWeight(value);
}

/** Each entry's addresses: what it is sent to (suppressed addresses removed), or, ending before sending, all of them. */
function entryRecipients<P extends Principal>(draft: Draft<P>): string[][] {
  const all = draft.hook.request.BulkEmailEntries;
  const lists = new Array<string[]>(all.length);
  for (const { index, entry } of draft.entries) lists[index] = entryAddresses(entry);
  for (let index = 0; index < all.length; index++) lists[index] ??= entryAddresses(all[index]);
  return lists;
}

/** The job record a checked draft becomes. */
function jobRecord<P extends Principal>(draft: Draft<P>, now: number): JobRecord {
  const { entries, initial } = draft;
  const at = new Date(now).toISOString();
  let suppressed = 0;
  for (const r of initial) if (r.status === 'SUPPRESSED') suppressed++;
  const job: JobRecord = {
    id: draft.jobId,
    principalId: draft.hook.principal.id,
    status: entries.length === 0 ? 'completed' : draft.sendAt !== undefined ? 'scheduled' : 'queued',
    createdAt: at,
    updatedAt: at,
    entries: draft.hook.request.BulkEmailEntries.length,
    recipients: draft.recipients,
    counts: { sent: 0, failed: initial.length, pending: entries.length, canceled: 0, suppressed, unknown: 0 },
  };
  if (entries.length === 0) job.completedAt = at;
  if (draft.sendAt !== undefined) job.sendAt = new Date(draft.sendAt).toISOString();
  if (draft.estimatedCompletionAt) job.estimatedCompletionAt = entries.length === 0 ? at : draft.estimatedCompletionAt;
  return job;
}

/**
 * Stores the job, then queues it. The store refuses (429 RATE_LIMITED) when the principal already has
 * `maxActiveJobs` unfinished jobs or `maxQueuedRecipients` queued, checking and counting in one atomic step; the
 * memory store also refuses (503) when its `maxJobs`/`maxBytes` are full. A job that cannot be queued is failed.
 */
export async function storeAndQueue<P extends Principal>(ctx: RouteContext<P>, draft: Draft<P>): Promise<JobRecord> {
  const { config } = ctx;
  const job = jobRecord(draft, config.clock.now());
  const { BulkEmailEntries: _entries, ...content } = draft.request;
  const limits = { maxActiveJobs: config.maxActiveJobs, maxQueuedRecipients: config.maxQueuedRecipients };
  const addresses = entryRecipients(draft);
  const weight = draft.entries.length ? await weightOf(ctx, draft) : undefined;
  await config.store.createJob(job, { content }, draft.initial, {
    limits,
    bytes: draft.bytes,
    recipients: addresses,
  });
  try {
    if (draft.entries.length) await enqueueJob(ctx, job, draft.entries, weight);
  } catch (err) {
    await config.store.failJob(job.id, entryError('JOB_NOT_QUEUED')).catch(() => undefined);
    throw err;
  }
  // The reputation guard may have paused this principal while the job was being stored: hold it then.
  if (draft.entries.length) Object.assign(job, await ctx.feedback.guard.holdIfPaused(job));
  ctx.admission.track(job.id, job.recipients);
  const { id, principalId, recipients } = job;
  const at = job.createdAt;
  config.emit({ type: 'job.created', jobId: id, principalId, entries: job.entries, recipients, at });
  if (job.status === 'completed')
    config.emit({ type: 'job.completed', jobId: id, status: job.status, counts: job.counts, at });
  config.logger.info({ jobId: id, entries: job.entries, recipients }, 'express-bulk-email: job created');
  return job;
}
