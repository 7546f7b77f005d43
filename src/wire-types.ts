// Types of every HTTP answer, snake_case as on the wire; test/unit/wire-types.test.ts proves them equal to the OpenAPI document.
import type { ErrorCode, ValidationDetail } from './errors.js';
import type { DeliveryStatus } from './events/ses-event.js';
import type { EntryStatus, JobCounts, JobStatus, SendRateSource, SuppressionReason } from './types.js';

export type {
  DeliveryStatus,
  EntryStatus,
  ErrorCode,
  JobCounts,
  JobStatus,
  SendRateSource,
  SuppressionReason,
  ValidationDetail,
};

/** `data` of a 2xx answer, by OpenAPI `operationId` and HTTP status (GET /openapi.json answers the document itself). */
export interface OperationAnswers {
  /** `POST /`: 202 accepted (the job as it is then, when `Prefer: wait=N` ran out); 200 the finished job or a dry run's plan. */
  createJob: { 200: JobView | DryRunPlan; 202: AcceptedJob | JobView };
  /** `GET /:id` */
  getJob: { 200: JobView };
  /** `GET /:id/results` */
  getResults: { 200: ResultsPage };
  /** `GET /`: the principal's jobs, newest first */
  listJobs: { 200: JobsPage };
  /** `POST /:id/cancel` */
  cancelJob: { 200: JobView };
  /** `POST /:id/pause` */
  pauseJob: { 200: JobView };
  /** `POST /:id/resume` */
  resumeJob: { 200: JobView };
  /** `POST /unsubscribe/:token` */
  unsubscribe: { 200: Unsubscribed };
  /** `POST /events/sns` (with `events.sns`) */
  snsEvents: { 200: SnsEventsView };
  /** `GET /suppressions` */
  listSuppressions: { 200: SuppressionsPage };
  /** `PUT /suppressions/:address` */
  putSuppression: { 200: SuppressionView };
  /** `DELETE /suppressions/:address` */
  deleteSuppression: { 200: SuppressionRemoved };
}

/**
 * One event of `GET /:id/events` (text/event-stream, not an envelope): `event:` is `progress` while the job runs and
 * `done` once (then the stream ends); `data:` is the job as `GET /:id` shows it; `id:` is what to send back as
 * `Last-Event-ID`.
 */
export interface JobStreamEvent {
  event: 'progress' | 'done';
  id: string;
  data: JobView;
}

/** Any `data` a successful answer carries. */
export type ResponseData = {
  [Op in keyof OperationAnswers]: OperationAnswers[Op][keyof OperationAnswers[Op]];
}[keyof OperationAnswers];

/** Every answer under the mount path (but GET /openapi.json) is one of these two. */
export type Envelope<T extends ResponseData = ResponseData> = SuccessEnvelope<T> | ErrorEnvelope;

export interface SuccessEnvelope<T extends ResponseData = ResponseData> {
  success: true;
  data: T;
}

export interface ErrorEnvelope {
  success: false;
  error: ErrorBody;
}

export interface ErrorBody {
  code: ErrorCode;
  /** For humans; never a stack trace, host name or address. */
  message: string;
  /** VALIDATION_ERROR: `ValidationDetail[]`; SES_ERROR: `{ ses_code }`; QUOTA_EXCEEDED: `{ needed, remaining }`. */
  details?: unknown;
  /** INTERNAL_ERROR: the id the error was logged with. */
  correlation_id?: string;
}

/** `POST /` → 202: what was accepted. */
export interface AcceptedJob {
  id: string;
  /** ISO 8601, UTC. */
  created_at: string;
  status: JobStatus;
  entries: number;
  recipients: number;
  /** Recipients per second the senders use now. */
  send_rate: number;
  /** Where `send_rate` comes from: the `sendRate` option, the account's GetAccount, or the 1/s fallback. */
  send_rate_source: SendRateSource;
  estimated_completion_at?: string;
  /** ISO 8601: a scheduled send's time. */
  send_at?: string;
}

/** A job as its owner sees it (`GET /:id`, `POST /:id/cancel`, `POST /` with `Prefer: wait=N`). */
export interface JobView {
  id: string;
  created_at: string;
  updated_at: string;
  status: JobStatus;
  entries: number;
  recipients: number;
  counts: JobCounts;
  send_rate: number;
  send_rate_source: SendRateSource;
  completed_at?: string;
  estimated_completion_at?: string;
  send_at?: string;
  /** Why a paused job is paused: the owner paused it, or the reputation guard did. */
  paused_reason?: 'USER' | 'REPUTATION';
  /** Why a failed job failed. */
  error?: FailureView;
}

/** One entry's outcome. */
export interface ResultView {
  /** The entry's index in `BulkEmailEntries`. */
  index: number;
  status: EntryStatus;
  /** The entry's addresses (what it is sent to; for a SUPPRESSED entry, the suppressed addresses). */
  recipients: string[];
  message_id?: string;
  error?: FailureView;
  /** SES calls this entry went out in. */
  attempts: number;
  /** What SES events said became of the message (absent until one did). */
  delivery?: DeliveryView;
  /** Open events SES reported (distinct events). */
  opened: number;
  /** Click events SES reported. */
  clicked: number;
}

/** The latest outcome SES reported for a message (a bounce or complaint is never replaced). */
export interface DeliveryView {
  status: DeliveryStatus;
  /** When it happened (SES's time), ISO 8601 UTC. */
  at: string;
  detail?: DeliveryDetailView;
}

/** What SES said about the outcome; which fields appear depends on the status. */
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

/** `POST /events/sns` → 200: the SNS message was accepted. */
export interface SnsEventsView {
  type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  message_id: string;
  /** This MessageId was seen before: acknowledged, nothing done. */
  duplicate: boolean;
}

/** One address on the principal's suppression list. */
export interface SuppressionView {
  address: string;
  reason: SuppressionReason;
  /** When it was suppressed, ISO 8601 UTC. */
  created_at: string;
  /** The SES message whose event suppressed it. */
  message_id?: string;
}

/** `GET /suppressions`: one page, in address order. */
export interface SuppressionsPage {
  suppressions: SuppressionView[];
  next_cursor: string | null;
}

/** `DELETE /suppressions/:address` → 200. */
export interface SuppressionRemoved {
  address: string;
  /** False when the address was not listed (nothing to remove). */
  removed: boolean;
}

/** `GET /`: one page of the principal's jobs, newest first. */
export interface JobsPage {
  jobs: JobView[];
  /** Pass as `?cursor=` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** `GET /:id/results`: one page, in index order. */
export interface ResultsPage {
  results: ResultView[];
  /** Pass as `?cursor=` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** `POST /?dry_run=true` → 200: what the job would do; nothing stored or sent. */
export interface DryRunPlan {
  dry_run: true;
  entries: number;
  /** Recipients that would be sent to (suppressed and invalid entries excluded). */
  recipients: number;
  calls: PlannedCall[];
  /** Indexes of entries that would end SUPPRESSED. */
  suppressed: number[];
  /** Entries that would end INVALID_PARAMETER (`renderCheck: 'permissive'`). */
  invalid: InvalidEntry[];
  /** Recipients per second; null when not known yet. */
  send_rate: number | null;
  send_rate_source: SendRateSource;
  estimated_completion_at: string | null;
  /** `?send_at=`: when the job would start (ISO 8601, UTC). */
  send_at?: string;
}

export interface PlannedCall {
  /** Entry indexes in this SES call. */
  entries: number[];
  recipients: number;
}

export interface InvalidEntry {
  index: number;
  error: FailureView;
}

/**
 * Why a job or an entry failed: a stable code (an SES status such as `MESSAGE_REJECTED`, or the package's, such as
 * `SES_UNREACHABLE`) and a message for humans (never a host name, address or stack).
 */
export interface FailureView {
  code: string;
  message: string;
}

/** `POST /unsubscribe/:token` → 200. */
export interface Unsubscribed {
  unsubscribed: true;
}
