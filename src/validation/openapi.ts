// The OpenAPI 3.1 document of the router: one table of routes, one of error codes, the request schema ajv compiled.
//
// Adding a route — everything goes in this file, plus its types in src/wire-types.ts:
//  1. ROUTES: one entry keyed by its operationId, which must also be a key of `OperationAnswers` in
//     src/wire-types.ts (with the `data` type of each 2xx status; tsc fails until both agree). Give the path in
//     OpenAPI form (`/{id}/pause`), the method, a summary, parameters, a request body if any, and each 2xx answer:
//     `answer(description, schema)` is wrapped in the envelope; `raw(description, schema, mediaType)` is not, and its
//     operation is listed in RawAnswers below instead of OperationAnswers (GET /openapi.json; an event stream).
//  2. SCHEMAS: a new shape goes here under the name of its exported type in src/wire-types.ts, referenced with
//     `schema('Name')`.
//  3. ERRORS: add the operationId to each error code the route answers beyond those every route answers (`'all'`) or
//     every authenticated route answers (`'authenticated'`): e.g. NOT_FOUND for a route that takes a job id. A new
//     error code in src/errors.ts fails tsc until it has a row here.
// What catches a slip: test/unit/openapi.test.ts (every route the Express router registers is in the document),
// test/helpers/check-responses.ts (every response the test suites receive matches the document; an undocumented
// status fails), test/unit/wire-types.test.ts (each schema here equals its exported type).
// Job statuses come from JOB_STATUS below (typed by JobStatus); entry statuses from the one table in src/sending/statuses.ts.
import { STATUS_MEANING } from '../sending/statuses.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../events/ses-event.js';
import type { JobStatus, SuppressionReason } from '../types.js';
import type { OperationAnswers } from '../wire-types.js';
import { type JsonSchema, type SendBulkEmailSchema, sendBulkEmailSchema } from './schema.js';

export interface OpenApiOptions {
  /** Most entries per request (used to build the schema when `schema` is not given). Default 10,000. */
  maxEntries?: number;
  /** The schema the validator compiled (`validator.schema`), embedded as is. */
  schema?: SendBulkEmailSchema;
  title?: string;
  version?: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, JsonSchema> & {
      SendBulkEmailRequest: SendBulkEmailSchema;
    };
    parameters: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
}

/** Operations whose 2xx answer is not the envelope (this document; an event stream or a page would be), by status. */
interface RawAnswers {
  getOpenApi: '200';
  getJobEvents: '200';
  getDashboard: '200';
  getDashboardScript: '200';
  getDashboardStyle: '200';
  getDashboardIcon: '200';
}

/** Every operation: those answering an envelope (typed in OperationAnswers) and the raw ones. */
export type OperationId = keyof OperationAnswers | keyof RawAnswers;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface AnswerSpec {
  description: string;
  /** JSON Schema of the body: the envelope around `data`, or the raw body. */
  body: JsonSchema;
  /** Its media type. Default `application/json`. */
  media?: string;
  headers?: Record<string, unknown>;
}

interface RouteSpec<Status extends string> {
  path: string;
  method: Method;
  summary: string;
  /** False for a route that a third party calls (no `authenticate`). Default true. */
  authenticated?: boolean;
  parameters?: unknown[];
  requestBody?: unknown;
  answers: Record<Status, AnswerSpec>;
}

/** One spec per operation; an envelope operation lists exactly the 2xx statuses its OperationAnswers entry has. */
type RouteTable = { [Op in keyof OperationAnswers]: RouteSpec<`${keyof OperationAnswers[Op] & number}`> } & {
  [Op in keyof RawAnswers]: RouteSpec<RawAnswers[Op]>;
};

/**
 * Which operations answer an error code: every one, every one behind `authenticate`, or those listed (a list may
 * also name `'authenticated'`: every one behind `authenticate` and those listed).
 */
type Answered = 'all' | 'authenticated' | readonly (OperationId | 'authenticated')[];

/** When each error code is answered (the README's table, in short), and by which operations. */
const ERRORS = {
  INVALID_JSON: { when: 'the body is not JSON', on: ['createJob', 'snsEvents'] },
  UNSUPPORTED_MEDIA_TYPE: {
    when: 'the body is not application/json (POST /events/sns: not text/plain or JSON, or not UTF-8)',
    on: ['createJob', 'snsEvents'],
  },
  PAYLOAD_TOO_LARGE: {
    when: "the body is over the size limit, or the job alone needs more than one principal's share of the memory store",
    on: ['createJob', 'snsEvents'],
  },
  VALIDATION_ERROR: {
    when: 'schema or semantic checks failed, or a query or path parameter is invalid; details lists every problem as { path, message }',
    on: ['createJob', 'getResults', 'listJobs', 'listSuppressions', 'putSuppression', 'deleteSuppression'],
  },
  UNAUTHORIZED: { when: 'authenticate gave no principal', on: 'authenticated' },
  FORBIDDEN: {
    when: 'authorize, the senders policy or the resources policy refused (details names each field)',
    on: ['createJob'],
  },
  NOT_FOUND: {
    when: 'no such job for this principal, or no such route (the dashboard routes without dashboard: true)',
    on: [
      'getJob',
      'getResults',
      'getJobEvents',
      'cancelJob',
      'pauseJob',
      'resumeJob',
      'unsubscribe',
      'getDashboard',
      'getDashboardScript',
      'getDashboardStyle',
      'getDashboardIcon',
    ],
  },
  METHOD_NOT_ALLOWED: { when: 'known path, wrong method (Allow header set)', on: 'all', allow: true },
  TEMPLATE_NOT_FOUND: { when: 'resolveTemplate (or SES) knows no such template', on: ['createJob'] },
  IDEMPOTENCY_KEY_INVALID: {
    when: 'the Idempotency-Key header is empty, repeated, too long or not visible ASCII',
    on: ['createJob'],
  },
  IDEMPOTENCY_IN_FLIGHT: {
    when: 'the first request with this Idempotency-Key (or this unsubscribe token) is still being processed',
    on: ['createJob', 'unsubscribe'],
    retryAfter: true,
  },
  IDEMPOTENCY_KEY_REUSED: { when: 'the Idempotency-Key was used before with another body', on: ['createJob'] },
  NOT_CANCELABLE: { when: 'the job has already finished', on: ['cancelJob'] },
  NOT_PAUSABLE: {
    when: 'the job is not scheduled, queued or sending (already paused, canceled or finished)',
    on: ['pauseJob'],
  },
  NOT_RESUMABLE: {
    when: 'the job is not paused, or the reputation guard paused it (the operator lifts that with router.resumePrincipal)',
    on: ['resumeJob'],
  },
  SENDING_PAUSED: {
    when: "the reputation guard paused this principal (its bounce or complaint rate reached the guard's line); the operator lifts it with router.resumePrincipal",
    on: ['createJob'],
  },
  RATE_LIMITED: {
    when: 'a hook refused with rateLimited(), or the principal is at maxActiveJobs, maxQueuedRecipients or its share of the memory store, or the job alone has more recipients than maxQueuedRecipients (split it), or the principal holds maxStreamsPerPrincipal event streams already',
    on: 'authenticated',
    retryAfter: true,
  },
  QUOTA_EXCEEDED: {
    when: "the job cannot finish inside the account's remaining 24-hour quota (quota: 'refuse')",
    on: ['createJob'],
    retryAfter: true,
  },
  INVALID_TOKEN: { when: 'the unsubscribe token is forged or expired', on: ['unsubscribe'] },
  INVALID_SIGNATURE: {
    when: 'the SNS message is forged, unsigned, stale or from a topic not in events.sns.topicArns',
    on: ['snsEvents'],
  },
  SES_ERROR: { when: 'SES refused the whole request (details.ses_code)', on: ['createJob'] },
  SERVICE_UNAVAILABLE: {
    when: 'the job store or queue is unreachable, or the memory store is full (POST /events/sns: or the SNS signing certificate could not be fetched; SNS retries)',
    on: ['authenticated', 'snsEvents'],
    retryAfter: true,
  },
  INTERNAL_ERROR: { when: 'anything unexpected; logged with a correlation id', on: 'all' },
} satisfies Record<ErrorCode, { when: string; on: Answered; retryAfter?: true; allow?: true }>;

const JOB_STATUS = {
  scheduled: 'stored; nothing is sent before send_at',
  queued: 'stored, nothing sent yet',
  sending: 'entries are being sent',
  paused: 'paused (paused_reason); calls in flight finish, nothing else is sent until it is resumed',
  completed: 'every entry has a final result (some may have failed)',
  failed: 'stopped by an error no retry can fix (see error); entries not yet sent are FAILED with it',
  canceled: 'canceled; entries not yet handed to SES are CANCELED',
} satisfies Record<JobStatus, string>;

const ENTRY_STATUS = STATUS_MEANING;

const DELIVERY_STATUS = {
  DELIVERED: 'the receiving server accepted it',
  BOUNCED: 'bounced (detail.bounce_type Permanent, Transient or Undetermined); never replaced by a later event',
  COMPLAINED: 'the recipient marked it as spam; never replaced by a later event',
  REJECTED: 'SES refused to send it (e.g. a virus)',
  DELAYED: 'delivery is delayed; SES keeps trying',
  RENDERING_FAILURE: 'the template could not be rendered for this entry',
} satisfies Record<DeliveryStatus, string>;

const SUPPRESSION_REASON = {
  BOUNCE: 'a message to it bounced permanently',
  COMPLAINT: 'it complained about a message',
  UNSUBSCRIBE: 'it unsubscribed (one-click, or SES list management)',
  MANUAL: 'PUT /suppressions/{address}',
} satisfies Record<SuppressionReason, string>;

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
/** A reference to one of SCHEMAS (named as its type in src/wire-types.ts). */
const schema = (name: string) => ref('schemas', name);
const json = (body: unknown) => ({ 'application/json': { schema: body } });
const count = () => ({ type: 'integer', minimum: 0 });
const timestamp = () => ({ type: 'string', format: 'date-time', description: 'ISO 8601, UTC' });
const object = (required: string[], properties: Record<string, unknown>, description?: string) => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  properties,
});

/** A 2xx answer: `{ success: true, data }`. */
function answer(description: string, data: JsonSchema, headers?: Record<string, unknown>): AnswerSpec {
  return { description, headers, body: object(['success', 'data'], { success: { const: true }, data }) };
}

/** A 2xx answer that is not wrapped in the envelope (its operation is listed in RawAnswers). */
function raw(description: string, body: JsonSchema, media = 'application/json'): AnswerSpec {
  return { description, body, media };
}

const replayed = { 'Idempotent-Replayed': ref('headers', 'IdempotentReplayed') };
const waited = { ...replayed, 'Preference-Applied': ref('headers', 'PreferenceApplied') };
const jobId = ref('parameters', 'JobId');

const ROUTES: RouteTable = {
  createJob: {
    path: '/',
    method: 'post',
    summary: 'Create a bulk send (a job) from a SendBulkEmail body',
    parameters: [
      ref('parameters', 'IdempotencyKey'),
      ref('parameters', 'Prefer'),
      ref('parameters', 'DryRun'),
      ref('parameters', 'SendAt'),
    ],
    requestBody: { required: true, content: json(schema('SendBulkEmailRequest')) },
    answers: {
      '200': answer(
        'The finished job (Prefer: wait=N, finished in time), or the plan of a dry run (?dry_run=true)',
        { oneOf: [schema('JobView'), schema('DryRunPlan')] },
        waited,
      ),
      '202': answer(
        'The job is stored and queued (when Prefer: wait=N ran out: the job as GET /{id} shows it at that moment)',
        { anyOf: [schema('AcceptedJob'), schema('JobView')] },
        waited,
      ),
    },
  },
  getOpenApi: {
    path: '/openapi.json',
    method: 'get',
    summary: 'This document (not wrapped in the envelope, for Swagger UI and code generators)',
    answers: {
      '200': raw('This OpenAPI document', {
        type: 'object',
        required: ['openapi', 'info', 'paths'],
        properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' } },
        additionalProperties: true,
      }),
    },
  },
  getJob: {
    path: '/{id}',
    method: 'get',
    summary: 'A job: status, counts, timestamps',
    parameters: [jobId],
    answers: { '200': answer('The job', schema('JobView')) },
  },
  getResults: {
    path: '/{id}/results',
    method: 'get',
    summary:
      'Per-entry results, in index order, one page at a time. With ?status= or ?delivery=, a page looks at no more than 5,000 entries: it may hold fewer than limit results (even none) and still have a next_cursor — follow it until null',
    parameters: [
      jobId,
      ref('parameters', 'Limit'),
      ref('parameters', 'Cursor'),
      ref('parameters', 'StatusFilter'),
      ref('parameters', 'DeliveryFilter'),
    ],
    answers: { '200': answer('One page of results', schema('ResultsPage')) },
  },
  getDashboard: {
    path: '/dashboard',
    method: 'get',
    summary:
      "With dashboard: true: the dashboard page (HTML; CSP default-src 'self'; its script and stylesheet are the three routes below, nothing external)",
    answers: { '200': raw('The page', { type: 'string' }, 'text/html') },
  },
  getDashboardScript: {
    path: '/dashboard/dashboard.js',
    method: 'get',
    summary: "With dashboard: true: the dashboard's script",
    answers: { '200': raw('JavaScript module', { type: 'string' }, 'text/javascript') },
  },
  getDashboardStyle: {
    path: '/dashboard/dashboard.css',
    method: 'get',
    summary: "With dashboard: true: the dashboard's stylesheet",
    answers: { '200': raw('CSS', { type: 'string' }, 'text/css') },
  },
  getDashboardIcon: {
    path: '/dashboard/icon.svg',
    method: 'get',
    summary: "With dashboard: true: the dashboard's icon",
    answers: { '200': raw('SVG', { type: 'string' }, 'image/svg+xml') },
  },
  getJobEvents: {
    path: '/{id}/events',
    method: 'get',
    summary:
      'The job as Server-Sent Events: `event: progress` with the job (JobView JSON in `data:`) whenever its status or counts change (at most 4 a second), `event: done` with the final job, then the stream ends; every event has an `id:` (send it back as Last-Event-ID to resume: a client that reconnects after the end gets `done` at once); a comment heartbeat every 15 s. Works whichever process runs the job. Too many open streams for the principal → 429',
    parameters: [
      jobId,
      {
        name: 'Last-Event-ID',
        in: 'header',
        description: 'The id of the last event received (sent by EventSource on reconnect)',
        schema: { type: 'string', maxLength: 256 },
      },
    ],
    answers: {
      '200': raw(
        'text/event-stream: `event: progress|done`, `id:`, `data:` one line of JobView JSON',
        { type: 'string' },
        'text/event-stream',
      ),
    },
  },
  listJobs: {
    path: '/',
    method: 'get',
    summary:
      "The principal's jobs, newest first, one page at a time (finished jobs while they are kept). With ?status=, a page looks at no more than 1,000 jobs: it may hold fewer than limit jobs (even none) and still have a next_cursor — follow it until null",
    parameters: [ref('parameters', 'JobLimit'), ref('parameters', 'Cursor'), ref('parameters', 'JobStatusFilter')],
    answers: { '200': answer('One page of jobs', schema('JobsPage')) },
  },
  pauseJob: {
    path: '/{id}/pause',
    method: 'post',
    summary:
      'Pause a scheduled, queued or sending job: SES calls in flight finish, nothing else is sent until it is resumed',
    parameters: [jobId],
    answers: { '200': answer('The job, paused (paused_reason USER)', schema('JobView')) },
  },
  resumeJob: {
    path: '/{id}/resume',
    method: 'post',
    summary:
      'Resume a job its owner paused, from where it stopped: back to scheduled while send_at is ahead, else sending (or queued)',
    parameters: [jobId],
    answers: { '200': answer('The job, resumed', schema('JobView')) },
  },
  cancelJob: {
    path: '/{id}/cancel',
    method: 'post',
    summary: 'Cancel every entry not yet handed to SES',
    parameters: [jobId],
    answers: { '200': answer('The job, canceled', schema('JobView')) },
  },
  unsubscribe: {
    path: '/unsubscribe/{token}',
    method: 'post',
    summary: 'One-click unsubscribe (RFC 8058); called by mailbox providers, so no authenticate',
    authenticated: false,
    parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
    requestBody: {
      required: false,
      content: {
        'application/x-www-form-urlencoded': {
          schema: { type: 'object', properties: { 'List-Unsubscribe': { const: 'One-Click' } } },
        },
      },
    },
    answers: {
      '200': answer('The address is unsubscribed (onUnsubscribe runs once per token)', schema('Unsubscribed')),
    },
  },
  snsEvents: {
    path: '/events/sns',
    method: 'post',
    summary:
      'SES events from an SNS HTTPS subscription (events.sns): signature, certificate host, topic and freshness verified; repeats ignored. Called by SNS, so no authenticate',
    authenticated: false,
    requestBody: {
      required: true,
      content: {
        'text/plain': { schema: { type: 'string', description: 'The SNS message as JSON text' } },
        'application/json': { schema: { type: 'object' } },
      },
    },
    answers: { '200': answer('The SNS message was accepted (or was a repeat)', schema('SnsEventsView')) },
  },
  listSuppressions: {
    path: '/suppressions',
    method: 'get',
    summary:
      "The principal's suppression list (with suppression.scope 'account': the one shared list), in address order",
    parameters: [ref('parameters', 'Limit'), ref('parameters', 'Cursor')],
    answers: { '200': answer('One page of suppressed addresses', schema('SuppressionsPage')) },
  },
  putSuppression: {
    path: '/suppressions/{address}',
    method: 'put',
    summary: 'Suppress an address (reason MANUAL); an address already listed keeps its entry',
    parameters: [ref('parameters', 'Address')],
    answers: { '200': answer('The address as listed', schema('SuppressionView')) },
  },
  deleteSuppression: {
    path: '/suppressions/{address}',
    method: 'delete',
    summary: 'Take an address off the suppression list (removed: false when it was not listed)',
    parameters: [ref('parameters', 'Address')],
    answers: { '200': answer('What was removed', schema('SuppressionRemoved')) },
  },
};

/** The shapes of the answers, each named as its type in src/wire-types.ts. */
const SCHEMAS: Record<string, JsonSchema> = {
  ErrorCode: { type: 'string', enum: Object.keys(ERROR_STATUS) },
  ValidationDetail: object(['path', 'message'], {
    path: { type: 'string', description: 'JSON Pointer (RFC 6901) into the request body' },
    message: { type: 'string' },
  }),
  ErrorBody: object(['code', 'message'], {
    code: schema('ErrorCode'),
    message: { type: 'string', description: 'For humans; never a stack trace, host name or address' },
    details: {
      description:
        'VALIDATION_ERROR: an array of ValidationDetail; SES_ERROR: { ses_code }; QUOTA_EXCEEDED: { needed, remaining }',
    },
    correlation_id: { type: 'string', description: 'INTERNAL_ERROR: the id the error was logged with' },
  }),
  ErrorEnvelope: object(['success', 'error'], { success: { const: false }, error: schema('ErrorBody') }),
  JobStatus: { type: 'string', enum: Object.keys(JOB_STATUS), description: describe(JOB_STATUS) },
  JobCounts: object(
    ['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown'],
    Object.fromEntries(
      ['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown', 'delivered', 'bounced', 'complained'].map(
        (k) => [k, count()],
      ),
    ),
    'sent + failed + pending + canceled always adds up to entries; suppressed and unknown are parts of failed. delivered, bounced and complained are a separate breakdown of sent: entries whose delivery status (from SES events) is that now (always present in answers)',
  ),
  SendRateSource: {
    type: 'string',
    enum: ['option', 'account', 'fallback'],
    description:
      'Where send_rate comes from: the sendRate option, GetAccount, or the fallback of 1/s because GetAccount failed',
  },
  AcceptedJob: object(['id', 'created_at', 'status', 'entries', 'recipients', 'send_rate', 'send_rate_source'], {
    id: { type: 'string' },
    created_at: timestamp(),
    status: schema('JobStatus'),
    entries: count(),
    recipients: count(),
    send_rate: { type: 'number', description: 'Recipients per second the senders use now' },
    send_rate_source: schema('SendRateSource'),
    estimated_completion_at: timestamp(),
    send_at: timestamp(),
  }),
  JobView: object(
    ['id', 'created_at', 'updated_at', 'status', 'entries', 'recipients', 'counts', 'send_rate', 'send_rate_source'],
    {
      id: { type: 'string' },
      created_at: timestamp(),
      updated_at: timestamp(),
      status: schema('JobStatus'),
      entries: count(),
      recipients: count(),
      counts: schema('JobCounts'),
      send_rate: { type: 'number', description: 'Recipients per second the senders use now' },
      send_rate_source: schema('SendRateSource'),
      completed_at: timestamp(),
      estimated_completion_at: timestamp(),
      send_at: timestamp(),
      paused_reason: { type: 'string', enum: ['USER', 'REPUTATION'] },
      error: schema('FailureView'),
    },
  ),
  EntryStatus: { type: 'string', enum: Object.keys(ENTRY_STATUS), description: describe(ENTRY_STATUS) },
  ResultView: object(['index', 'status', 'recipients', 'attempts', 'opened', 'clicked'], {
    index: { ...count(), description: "The entry's index in BulkEmailEntries" },
    status: schema('EntryStatus'),
    recipients: {
      type: 'array',
      items: { type: 'string' },
      description: "The entry's addresses (what it is sent to; for a SUPPRESSED entry, the suppressed addresses)",
    },
    message_id: { type: 'string' },
    error: schema('FailureView'),
    attempts: { ...count(), description: 'SES calls this entry went out in' },
    delivery: schema('DeliveryView'),
    opened: { ...count(), description: 'Open events SES reported' },
    clicked: { ...count(), description: 'Click events SES reported' },
  }),
  DeliveryStatus: { type: 'string', enum: [...DELIVERY_STATUSES], description: describe(DELIVERY_STATUS) },
  DeliveryView: object(
    ['status', 'at'],
    { status: schema('DeliveryStatus'), at: timestamp(), detail: schema('DeliveryDetailView') },
    'The latest outcome SES reported (a bounce or complaint is never replaced); absent until SES reported one',
  ),
  DeliveryDetailView: object(
    [],
    Object.fromEntries(
      [
        'bounce_type',
        'bounce_sub_type',
        'diagnostic_code',
        'smtp_status',
        'complaint_feedback_type',
        'complaint_sub_type',
        'smtp_response',
        'reason',
        'error_message',
        'template_name',
        'delay_type',
        'expiration_time',
      ].map((k) => [k, { type: 'string' }]),
    ),
    'What SES said about the outcome; the fields depend on the status',
  ),
  JobsPage: object(['jobs', 'next_cursor'], {
    jobs: { type: 'array', items: schema('JobView') },
    next_cursor: { type: ['string', 'null'], description: 'Pass as ?cursor= for the next page; null on the last page' },
  }),
  ResultsPage: object(['results', 'next_cursor'], {
    results: { type: 'array', items: schema('ResultView') },
    next_cursor: { type: ['string', 'null'], description: 'Pass as ?cursor= for the next page; null on the last page' },
  }),
  PlannedCall: object(['entries', 'recipients'], {
    entries: { type: 'array', items: count(), description: 'Entry indexes in this SES call' },
    recipients: count(),
  }),
  InvalidEntry: object(['index', 'error'], { index: count(), error: schema('FailureView') }),
  DryRunPlan: object(
    [
      'dry_run',
      'entries',
      'recipients',
      'calls',
      'suppressed',
      'invalid',
      'send_rate',
      'send_rate_source',
      'estimated_completion_at',
    ],
    {
      dry_run: { const: true },
      entries: count(),
      recipients: { ...count(), description: 'Recipients that would be sent to (suppressed and invalid excluded)' },
      calls: { type: 'array', items: schema('PlannedCall'), description: 'The SES calls the job would make' },
      suppressed: { type: 'array', items: count(), description: 'Indexes of entries that would end SUPPRESSED' },
      invalid: {
        type: 'array',
        items: schema('InvalidEntry'),
        description: "Entries that would end INVALID_PARAMETER (renderCheck: 'permissive')",
      },
      send_rate: { type: ['number', 'null'], description: 'Recipients per second; null when not known yet' },
      send_rate_source: schema('SendRateSource'),
      estimated_completion_at: { ...timestamp(), type: ['string', 'null'] },
      send_at: { ...timestamp(), description: 'With ?send_at=: when the job would start (ISO 8601, UTC)' },
    },
    'What the job would do; nothing is stored or sent',
  ),
  Unsubscribed: object(['unsubscribed'], { unsubscribed: { const: true } }),
  SnsEventsView: object(['type', 'message_id', 'duplicate'], {
    type: { type: 'string', enum: ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] },
    message_id: { type: 'string' },
    duplicate: { type: 'boolean', description: 'This MessageId was seen before: acknowledged, nothing done' },
  }),
  SuppressionReason: {
    type: 'string',
    enum: Object.keys(SUPPRESSION_REASON),
    description: describe(SUPPRESSION_REASON),
  },
  SuppressionView: object(['address', 'reason', 'created_at'], {
    address: { type: 'string', description: 'Lower-cased bare address' },
    reason: schema('SuppressionReason'),
    created_at: timestamp(),
    message_id: { type: 'string', description: 'The SES message whose event suppressed it' },
  }),
  SuppressionsPage: object(['suppressions', 'next_cursor'], {
    suppressions: { type: 'array', items: schema('SuppressionView') },
    next_cursor: { type: ['string', 'null'], description: 'Pass as ?cursor= for the next page; null on the last page' },
  }),
  SuppressionRemoved: object(['address', 'removed'], {
    address: { type: 'string' },
    removed: { type: 'boolean', description: 'False when the address was not listed' },
  }),
  FailureView: object(
    ['code', 'message'],
    { code: { type: 'string' }, message: { type: 'string', description: 'For humans; never a host name or stack' } },
    'Why a job or an entry failed',
  ),
};

/** Error answers grouped by HTTP status, each listing its codes and when they happen. */
function errorAnswers(op: OperationId, authenticated: boolean): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, row] of Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][]) {
    const on: Answered = row.on;
    const listed = Array.isArray(on) && (on.includes(op) || (authenticated && on.includes('authenticated')));
    if (on === 'all' || (on === 'authenticated' && authenticated) || listed) {
      byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    }
  }
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = {
      ...(codes.some((c) => 'retryAfter' in ERRORS[c]) ? { 'Retry-After': ref('headers', 'RetryAfter') } : {}),
      ...(codes.some((c) => 'allow' in ERRORS[c]) ? { Allow: ref('headers', 'Allow') } : {}),
    };
    responses[String(status)] = {
      description: codes.map((code) => `${code}: ${ERRORS[code].when}`).join('; '),
      ...(Object.keys(headers).length ? { headers } : {}),
      content: json({
        allOf: [schema('ErrorEnvelope')],
        properties: { error: { properties: { code: { enum: codes } } } },
      }),
    };
  }
  return responses;
}

function paths(): OpenApiDocument['paths'] {
  const out: OpenApiDocument['paths'] = {};
  for (const [operationId, spec] of Object.entries(ROUTES) as [OperationId, RouteSpec<string>][]) {
    const { path, method, summary, parameters, requestBody, answers } = spec;
    const responses: Record<string, unknown> = {};
    for (const [status, { description, body, media, headers }] of Object.entries(answers)) {
      const content = { [media ?? 'application/json']: { schema: body } };
      responses[status] = { description, ...(headers ? { headers } : {}), content };
    }
    out[path] ??= {};
    out[path][method] = {
      operationId,
      summary,
      ...(parameters ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: { ...responses, ...errorAnswers(operationId, spec.authenticated ?? true) },
    };
  }
  return out;
}

export function buildOpenApi(options: OpenApiOptions = {}): OpenApiDocument {
  const request = options.schema ?? sendBulkEmailSchema({ maxEntries: options.maxEntries });
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'express-bulk-email',
      version: options.version ?? '1.0.0',
      description:
        'Accepts Amazon SES v2 SendBulkEmail requests and sends them as jobs: chunked, rate limited, retried and ' +
        'tracked. Every response but this document (including errors, unknown routes and body-parse failures) is the ' +
        "envelope { success, data | error }. Every route except /unsubscribe/{token} and /events/sns runs the application's " +
        'authenticate first; a job is visible only to the principal that created it.',
    },
    servers: [{ url: '.', description: 'The path this router is mounted at' }],
    paths: paths(),
    components: {
      schemas: { SendBulkEmailRequest: request, ...SCHEMAS },
      parameters: {
        JobId: { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        Limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        Cursor: {
          name: 'cursor',
          in: 'query',
          description: 'next_cursor of the previous page',
          schema: { type: 'string' },
        },
        JobLimit: {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        },
        JobStatusFilter: {
          name: 'status',
          in: 'query',
          description: 'Only jobs with one of these statuses (a comma-separated list of JobStatus values)',
          schema: { type: 'string', examples: ['sending,paused', 'scheduled'] },
        },
        StatusFilter: {
          name: 'status',
          in: 'query',
          description: 'Only entries with one of these statuses (a comma-separated list of EntryStatus values)',
          schema: { type: 'string', examples: ['SUCCESS', 'FAILED,UNKNOWN'] },
        },
        DeliveryFilter: {
          name: 'delivery',
          in: 'query',
          description:
            'Only entries whose delivery status is one of these (a comma-separated list of DeliveryStatus values, or NONE for no outcome reported yet)',
          schema: { type: 'string', examples: ['BOUNCED,COMPLAINED', 'NONE'] },
        },
        Address: {
          name: 'address',
          in: 'path',
          required: true,
          description: 'An email address (bare, URL-encoded; compared lower-cased)',
          schema: { type: 'string', maxLength: 320 },
        },
        DryRun: {
          name: 'dry_run',
          in: 'query',
          description: 'Run every check and hook, store and send nothing, answer 200 with the plan',
          schema: { type: 'boolean', default: false },
        },
        SendAt: {
          name: 'send_at',
          in: 'query',
          description:
            "Schedule the job: an RFC 3339 time with an offset (Z or ±hh:mm), at most maxScheduleAhead ahead (default 30 days). The job is 'scheduled' until then; a time up to 60 s in the past means now; earlier, later than allowed, or without an offset → 400",
          schema: { type: 'string', format: 'date-time', examples: ['2030-01-31T09:00:00+01:00'] },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          description: 'Replays the first response for the same key and body (24 h), scoped to the principal',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
        },
        Prefer: {
          name: 'Prefer',
          in: 'header',
          description: 'RFC 7240 wait=N (N ≤ 60): wait up to N seconds and answer 200 with the job if it finished',
          schema: { type: 'string', examples: ['wait=30'] },
        },
      },
      headers: {
        RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
        Allow: { description: 'The methods this path accepts', schema: { type: 'string' } },
        IdempotentReplayed: { description: 'true when this is a replayed response', schema: { const: 'true' } },
        PreferenceApplied: { description: 'wait=N when Prefer: wait=N was honoured', schema: { type: 'string' } },
      },
    },
  };
}

function describe(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([value, meaning]) => `${value}: ${meaning}`)
    .join('; ');
}
