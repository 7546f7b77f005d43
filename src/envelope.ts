// The {success, data|error} envelope and the snake_case views of jobs and results (types in wire-types.ts).
import type { ErrorCode } from './errors.js';
import type { EntryResult, JobRecord } from './types.js';
import type {
  AcceptedJob,
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
export function acceptedView(job: JobRecord): AcceptedJob {
  const view: AcceptedJob = {
    id: job.id,
    created_at: job.createdAt,
    status: job.status,
    entries: job.entries,
    recipients: job.recipients,
  };
  if (job.estimatedCompletionAt) view.estimated_completion_at = job.estimatedCompletionAt;
  return view;
}

export function resultView(result: EntryResult): ResultView {
  const view: ResultView = { index: result.index, status: result.status, attempts: result.attempts };
  if (result.messageId) view.message_id = result.messageId;
  if (result.error) view.error = result.error;
  return view;
}
