// The {success, data|error} envelope and the snake_case views of jobs and results (types in wire-types.ts).
import type { ErrorCode } from './errors.js';
import type { DeliveryState } from './events/delivery-state.js';
import type { DeliveryDetail } from './events/ses-event.js';
import type { EntryResult, JobRecord, SendRateSource } from './types.js';
import type {
  AcceptedJob,
  DeliveryDetailView,
  DeliveryView,
  ErrorBody,
  ErrorEnvelope,
  JobView,
  ResponseData,
  ResultView,
  SuccessEnvelope,
} from './wire-types.js';

export function ok<T extends ResponseData>(data: T): SuccessEnvelope<T> {
  return { success: true, data };
}

export function fail(code: ErrorCode, message: string, details?: unknown, correlationId?: string): ErrorEnvelope {
  const error: ErrorBody = { code, message };
  if (details !== undefined) error.details = details;
  if (correlationId !== undefined) error.correlation_id = correlationId;
  return { success: false, error };
}

/** The send rate the engine uses now and where it comes from (`'fallback'`: GetAccount failed, 1/s). */
export interface SendingView {
  rate: number;
  source: SendRateSource;
}

export function jobView(job: JobRecord, sending: SendingView): JobView {
  const view: JobView = {
    id: job.id,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
    // delivered / bounced / complained are always shown (0 until SES events are ingested)
    counts: {
      ...job.counts,
      delivered: job.counts.delivered ?? 0,
      bounced: job.counts.bounced ?? 0,
      complained: job.counts.complained ?? 0,
    },
    send_rate: sending.rate,
    send_rate_source: sending.source,
  };
  if (job.completedAt) view.completed_at = job.completedAt;
  if (job.estimatedCompletionAt) view.estimated_completion_at = job.estimatedCompletionAt;
  if (job.sendAt) view.send_at = job.sendAt;
  if (job.pausedReason) view.paused_reason = job.pausedReason;
  if (job.error) view.error = { code: job.error.code, message: job.error.message };
  return view;
}

/** The short answer to `POST /`: what was accepted. */
export function acceptedView(job: JobRecord, sending: SendingView): AcceptedJob {
  const view: AcceptedJob = {
    id: job.id,
    created_at: job.createdAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
    send_rate: sending.rate,
    send_rate_source: sending.source,
  };
  if (job.estimatedCompletionAt) view.estimated_completion_at = job.estimatedCompletionAt;
  if (job.sendAt) view.send_at = job.sendAt;
  return view;
}

export function resultView(result: EntryResult): ResultView {
  const view: ResultView = {
    index: result.index,
    status: result.status,
    recipients: result.recipients ?? [],
    attempts: result.attempts,
    opened: result.delivery?.opened ?? 0,
    clicked: result.delivery?.clicked ?? 0,
  };
  if (result.messageId) view.message_id = result.messageId;
  if (result.error) view.error = { code: result.error.code, message: result.error.message };
  const delivery = deliveryView(result.delivery);
  if (delivery) view.delivery = delivery;
  return view;
}

/* ------------------------------------------------------------------ delivery feedback (SES events) */

const DETAIL_FIELDS: Record<keyof DeliveryDetail, keyof DeliveryDetailView> = {
  bounceType: 'bounce_type',
  bounceSubType: 'bounce_sub_type',
  diagnosticCode: 'diagnostic_code',
  smtpStatus: 'smtp_status',
  complaintFeedbackType: 'complaint_feedback_type',
  complaintSubType: 'complaint_sub_type',
  smtpResponse: 'smtp_response',
  reason: 'reason',
  errorMessage: 'error_message',
  templateName: 'template_name',
  delayType: 'delay_type',
  expirationTime: 'expiration_time',
};

/** A result's `delivery` (undefined until SES reported an outcome); `opened` / `clicked` are the state's counts. */
export function deliveryView(state: DeliveryState | undefined): DeliveryView | undefined {
  if (!state?.status || !state.at) return undefined;
  const view: DeliveryView = { status: state.status, at: state.at };
  if (state.detail) {
    const detail: DeliveryDetailView = {};
    for (const [field, name] of Object.entries(DETAIL_FIELDS) as [keyof DeliveryDetail, keyof DeliveryDetailView][]) {
      const value = state.detail[field];
      if (value !== undefined) detail[name] = value;
    }
    view.detail = detail;
  }
  return view;
}
