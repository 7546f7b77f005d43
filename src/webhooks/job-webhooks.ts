// jobWebhooks(): turns the package's own events (job end, guard pause, bounces, complaints) into queued webhooks.
import { jobView, type SendingView } from '../envelope.js';
import type { SenderConfig } from '../options.js';
import type { BulkEmailEvent, JobRecord } from '../types.js';
import { memoryOutbox } from './memory-outbox.js';
import { type WebhookEvent, webhookDelivery } from './webhook-delivery.js';

export type JobWebhookType = 'job.completed' | 'job.failed' | 'job.canceled' | 'job.paused';

export interface JobWebhooks {
  /**
   * Queues a job event for the job's principal (`data`: the job as GET /:id shows it). Job ends, cancels, the
   * owner's pauses (the `job.paused` event of POST /:id/pause) and guard pauses are queued on their own.
   */
  jobEvent(type: JobWebhookType, job: JobRecord): Promise<void>;
  /** Stops delivering (attempts in flight are put back) after the events being queued are in the outbox. */
  close(): Promise<void>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Wraps `config.emit` (call it before the sender or the feedback reads `config.emit`) so that the events webhooks
 * carry are queued in the store's outbox. `deliver`: this process also posts them (it sends: a worker).
 */
export function jobWebhooks(
  config: SenderConfig,
  deliver: boolean,
  sending: () => SendingView,
): JobWebhooks | undefined {
  const options = config.webhooks;
  if (!options) return undefined;
  const { store, logger, clock } = config;
  const outbox = store.webhookOutbox?.() ?? memoryOutbox();
  const delivery = webhookDelivery({ config: options, outbox, clock, logger });
  if (deliver) delivery.start();
  const queuing = new Set<Promise<unknown>>();

  const track = (what: string, work: () => Promise<unknown>) => {
    const run = work()
      .catch((err: unknown) => {
        logger.error(
          { code: 'WEBHOOK_QUEUE_FAILED', what, err: errText(err) },
          'express-bulk-email: a webhook could not be queued',
        );
      })
      .finally(() => queuing.delete(run));
    queuing.add(run);
  };
  const queue = (event: WebhookEvent) => delivery.emit(event);

  const jobEvent = async (type: JobWebhookType, job: JobRecord, at = clock.now()) => {
    // One webhook-id per job end; a pause is keyed by when it happened (a job may be paused more than once).
    const key = type === 'job.paused' ? `${job.id}:${job.updatedAt}` : job.id;
    await queue({ principalId: job.principalId, type, data: { ...jobView(job, sending()) }, key, at });
  };
  const atOf = (iso: string) => {
    const t = Date.parse(iso);
    return Number.isFinite(t) ? t : clock.now();
  };

  const onEvent = (event: BulkEmailEvent) => {
    switch (event.type) {
      case 'job.completed':
      case 'job.failed':
      case 'job.canceled': {
        const { type, jobId } = event;
        track(type, async () => {
          const job = await store.getJob(jobId);
          // A cancel with calls in flight ends when they do: that end queues the webhook (once, with final counts).
          if (!job || (type === 'job.canceled' && !job.completedAt)) return;
          await jobEvent(type, job, atOf(event.at));
        });
        return;
      }
      case 'job.paused': {
        // POST /:id/pause (the owner's pause)
        const { jobId } = event;
        track(event.type, async () => {
          const job = await store.getJob(jobId);
          if (job?.status === 'paused') await jobEvent('job.paused', job, atOf(event.at));
        });
        return;
      }
      case 'principal.paused':
        track(event.type, async () => {
          for (const id of event.jobIds) {
            const job = await store.getJob(id);
            if (job?.status === 'paused') await jobEvent('job.paused', job, atOf(event.at));
          }
        });
        return;
      case 'entry.bounced':
      case 'entry.complained': {
        const { type, jobId, principalId, index, messageId, recipients, at } = event;
        const detail =
          type === 'entry.bounced'
            ? {
                ...(event.bounceType ? { bounce_type: event.bounceType } : {}),
                ...(event.bounceSubType ? { bounce_sub_type: event.bounceSubType } : {}),
              }
            : event.complaintFeedbackType
              ? { complaint_feedback_type: event.complaintFeedbackType }
              : {};
        const data = { job_id: jobId, index, message_id: messageId, recipients, ...detail, at };
        track(type, () => queue({ principalId, type, data, key: `${jobId}:${index}`, at: atOf(at) }));
        return;
      }
      default:
    }
  };
  const emit = config.emit;
  config.emit = (event) => {
    emit(event);
    onEvent(event);
  };

  return {
    jobEvent: (type, job) => jobEvent(type, job),
    async close() {
      await Promise.allSettled([...queuing]);
      await delivery.close();
    },
  };
}
