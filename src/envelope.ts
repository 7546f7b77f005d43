// The {success, data|error} envelope and the snake_case views of jobs and results.
import type { ErrorCode } from './errors.js';
import type { DeliveryState } from './events/delivery-state.js';
import type { DeliveryDetail, DeliveryStatus } from './events/ses-event.js';
import type { EntryResult, JobRecord } from './types.js';

export interface SuccessEnvelope<T> {
  success: true;
  data: T;
}

export interface ErrorEnvelope {
  success: false;
  error: { code: ErrorCode; message: string; details?: unknown; correlation_id?: string };
}

export function ok<T>(data: T): SuccessEnvelope<T> {
  return { success: true, data };
}

export function fail(code: ErrorCode, message: string, details?: unknown, correlationId?: string): ErrorEnvelope {
  const error: ErrorEnvelope['error'] = { code, message };
  if (details !== undefined) error.details = details;
  if (correlationId !== undefined) error.correlation_id = correlationId;
  return { success: false, error };
}

export interface JobView {
  id: string;
  created_at: string;
  updated_at: string;
  status: JobRecord['status'];
  entries: number;
  recipients: number;
  counts: JobRecord['counts'];
  completed_at?: string;
  estimated_completion_at?: string;
}

export function jobView(job: JobRecord): JobView {
  const view: JobView = {
    id: job.id,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
    counts: { ...job.counts },
  };
  if (job.completedAt) view.completed_at = job.completedAt;
  if (job.estimatedCompletionAt) view.estimated_completion_at = job.estimatedCompletionAt;
  return view;
}

/** The short answer to `POST /`: what was accepted. */
export function acceptedView(job: JobRecord) {
  const view: Record<string, unknown> = {
    id: job.id,
    created_at: job.createdAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
  };
  if (job.estimatedCompletionAt) view.estimated_completion_at = job.estimatedCompletionAt;
  return view;
}

export interface ResultView {
  index: number;
  status: EntryResult['status'];
  message_id?: string;
  error?: string;
  attempts: number;
}

export function resultView(result: EntryResult): ResultView {
  const view: ResultView = { index: result.index, status: result.status, attempts: result.attempts };
  if (result.messageId) view.message_id = result.messageId;
  if (result.error) view.error = result.error;
  return view;
}

/* ------------------------------------------------------------------ delivery feedback (SES events) */

export interface DeliveryView {
  status: DeliveryStatus;
  at: string;
  detail?: DeliveryDetailView;
}

export interface DeliveryDetailView {
  bounce_type?: string;
  bounce_sub_type?: string;
  diagnostic_code?: string;
  smtp_status?: string;
  complaint_feedback_type?: string;
  complaint_sub_type?: string;
  smtp_response?: string;
  reason?: string;
  error_message?: string;
  template_name?: string;
  delay_type?: string;
  expiration_time?: string;
}

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
