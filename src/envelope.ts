// The {success, data|error} envelope and the snake_case views of jobs and results.
import type { ErrorCode } from './errors.js';
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
