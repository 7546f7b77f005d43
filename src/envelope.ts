// The {success, data|error} envelope and the snake_case views of jobs and results.
import type { ErrorCode } from './errors.js';
import type { EntryError, EntryResult, JobRecord, SendRateSource } from './types.js';

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

/** The send rate the engine uses now and where it comes from (`'fallback'`: GetAccount failed, 1/s). */
export interface SendingView {
  rate: number;
  source: SendRateSource;
}

export interface JobView {
  id: string;
  created_at: string;
  updated_at: string;
  status: JobRecord['status'];
  entries: number;
  recipients: number;
  counts: JobRecord['counts'];
  send_rate: number;
  send_rate_source: SendRateSource;
  completed_at?: string;
  estimated_completion_at?: string;
  send_at?: string;
  paused_reason?: JobRecord['pausedReason'];
  error?: EntryError;
}

export function jobView(job: JobRecord, sending: SendingView): JobView {
  const view: JobView = {
    id: job.id,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
    counts: { ...job.counts },
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
export function acceptedView(job: JobRecord, sending: SendingView) {
  const view: Record<string, unknown> = {
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

export interface ResultView {
  index: number;
  status: EntryResult['status'];
  message_id?: string;
  error?: EntryError;
  attempts: number;
}

export function resultView(result: EntryResult): ResultView {
  const view: ResultView = { index: result.index, status: result.status, attempts: result.attempts };
  if (result.messageId) view.message_id = result.messageId;
  if (result.error) view.error = { code: result.error.code, message: result.error.message };
  return view;
}
