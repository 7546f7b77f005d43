// The OpenAPI 3.1 document of the router, embedding the very schema object the validator compiled.
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import type { EntryStatus, JobStatus } from '../types.js';
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

/** When each error code is answered (the README's table, in short). Typed so that a new code cannot be forgotten. */
const ERROR_WHEN = {
  INVALID_JSON: 'the body is not JSON',
  UNSUPPORTED_MEDIA_TYPE: 'the body is not application/json',
  PAYLOAD_TOO_LARGE: 'the body is over the size limit',
  VALIDATION_ERROR: 'schema or semantic checks failed; details lists every problem as { path, message }',
  UNAUTHORIZED: 'authenticate gave no principal',
  FORBIDDEN: 'authorize or the sender policy refused',
  NOT_FOUND: 'no such job for this principal, or no such route',
  METHOD_NOT_ALLOWED: 'known path, wrong method (Allow header set)',
  TEMPLATE_NOT_FOUND: 'resolveTemplate (or SES) knows no such template',
  IDEMPOTENCY_KEY_INVALID: 'the Idempotency-Key header is empty, repeated, too long or not visible ASCII',
  IDEMPOTENCY_IN_FLIGHT: 'the first request with this Idempotency-Key is still being processed (Retry-After set)',
  IDEMPOTENCY_KEY_REUSED: 'the Idempotency-Key was used before with another body',
  NOT_CANCELABLE: 'the job has already finished',
  RATE_LIMITED: 'a hook refused with rateLimited(), or too many unfinished jobs (Retry-After set)',
  QUOTA_EXCEEDED: "the job cannot finish inside the account's remaining 24-hour quota (quota: 'refuse')",
  INVALID_TOKEN: 'the unsubscribe token is forged or expired',
  INVALID_SIGNATURE: 'the SNS message is forged, unsigned, stale or from a topic not in events.sns.topicArns',
  SES_ERROR: 'SES refused the whole request (details.ses_code)',
  SERVICE_UNAVAILABLE: 'the job store or queue is unreachable (Retry-After set)',
  INTERNAL_ERROR: 'anything unexpected; logged with a correlation id',
} satisfies Record<ErrorCode, string>;

const JOB_STATUS = {
  queued: 'stored, nothing sent yet',
  sending: 'entries are being sent',
  completed: 'every entry has a final result (some may have failed)',
  canceled: 'canceled; entries not yet handed to SES are CANCELED',
} satisfies Record<JobStatus, string>;

const ENTRY_STATUS = {
  SUCCESS: 'accepted by SES (message_id set)',
  MESSAGE_REJECTED: 'SES refused the content',
  MAIL_FROM_DOMAIN_NOT_VERIFIED: 'the sender is not verified',
  CONFIGURATION_SET_NOT_FOUND: 'no such configuration set',
  TEMPLATE_NOT_FOUND: 'no such stored template',
  ACCOUNT_SUSPENDED: 'the SES account is suspended',
  ACCOUNT_THROTTLED: 'throttled after every retry',
  ACCOUNT_DAILY_QUOTA_EXCEEDED: 'the 24-hour quota was reached',
  INVALID_SENDING_POOL_NAME: 'the configuration set names a missing IP pool',
  ACCOUNT_SENDING_PAUSED: 'account sending is paused',
  CONFIGURATION_SET_SENDING_PAUSED: 'configuration set sending is paused',
  INVALID_PARAMETER: 'SES found this entry invalid (or its template data lacks a variable)',
  TRANSIENT_FAILURE: 'a temporary SES failure, after every retry',
  FAILED: 'failed (see error)',
  PENDING: 'not sent yet',
  CANCELED: 'canceled before it was sent',
  SUPPRESSED: 'skipped: suppress() listed a recipient',
  UNKNOWN: 'SES may or may not have sent it (outcome lost); never resent silently',
} satisfies Record<EntryStatus, string>;

/** Error codes each operation may answer, besides those every authenticated operation may answer. */
const ALWAYS: ErrorCode[] = [
  'UNAUTHORIZED',
  'METHOD_NOT_ALLOWED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
];
const ROUTE_ERRORS = {
  create: [
    'INVALID_JSON',
    'UNSUPPORTED_MEDIA_TYPE',
    'PAYLOAD_TOO_LARGE',
    'VALIDATION_ERROR',
    'FORBIDDEN',
    'TEMPLATE_NOT_FOUND',
    'IDEMPOTENCY_KEY_INVALID',
    'IDEMPOTENCY_IN_FLIGHT',
    'IDEMPOTENCY_KEY_REUSED',
    'QUOTA_EXCEEDED',
    'SES_ERROR',
  ],
  job: ['NOT_FOUND'],
  results: ['VALIDATION_ERROR', 'NOT_FOUND'],
  cancel: ['NOT_FOUND', 'NOT_CANCELABLE'],
  openapi: [],
} satisfies Record<string, ErrorCode[]>;
const UNSUBSCRIBE_ERRORS: ErrorCode[] = [
  'INVALID_TOKEN',
  'IDEMPOTENCY_IN_FLIGHT',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INTERNAL_ERROR',
];

const SNS_EVENTS_ERRORS: ErrorCode[] = [
  'INVALID_SIGNATURE',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INTERNAL_ERROR',
];

const ref = (kind: string, name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});
const json = (schema: unknown) => ({ 'application/json': { schema } });
const success = (data: unknown) => ({
  type: 'object',
  required: ['success', 'data'],
  properties: { success: { const: true }, data },
});
const ok = (description: string, data: unknown, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: json(success(data)),
});

/** Error responses grouped by HTTP status, each listing its codes and when they happen. */
function errorResponses(codes: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes))
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const retryAfter = list.some((c) =>
      ['RATE_LIMITED', 'QUOTA_EXCEEDED', 'IDEMPOTENCY_IN_FLIGHT', 'SERVICE_UNAVAILABLE'].includes(c),
    );
    const headers = {
      ...(retryAfter ? { 'Retry-After': ref('headers', 'RetryAfter') } : {}),
      ...(list.includes('METHOD_NOT_ALLOWED') ? { Allow: ref('headers', 'Allow') } : {}),
    };
    responses[String(status)] = {
      description: list.map((code) => `${code}: ${ERROR_WHEN[code]}`).join('; '),
      ...(Object.keys(headers).length ? { headers } : {}),
      content: json({
        allOf: [ref('schemas', 'ErrorEnvelope')],
        properties: { error: { properties: { code: { enum: list } } } },
      }),
    };
  }
  return responses;
}

function operation(
  summary: string,
  spec: Record<string, unknown>,
  responses: Record<string, unknown>,
  codes: ErrorCode[],
) {
  return {
    summary,
    ...spec,
    responses: { ...responses, ...errorResponses(codes) },
  };
}

export function buildOpenApi(options: OpenApiOptions = {}): OpenApiDocument {
  const schema = options.schema ?? sendBulkEmailSchema({ maxEntries: options.maxEntries });
  const jobId = ref('parameters', 'JobId');
  const replayed = { 'Idempotent-Replayed': ref('headers', 'IdempotentReplayed') };
  const waited = { ...replayed, 'Preference-Applied': ref('headers', 'PreferenceApplied') };

  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'express-bulk-email',
      version: options.version ?? '1.0.0',
      description:
        'Accepts Amazon SES v2 SendBulkEmail requests and sends them as jobs: chunked, rate limited, retried and ' +
        'tracked. Every response (including errors, unknown routes and body-parse failures) is the envelope ' +
        "{ success, data | error }. Every route except /unsubscribe/{token} runs the application's authenticate " +
        'first; a job is visible only to the principal that created it.',
    },
    servers: [{ url: '.', description: 'The path this router is mounted at' }],
    paths: {
      '/': {
        post: operation(
          'Create a bulk send (a job) from a SendBulkEmail body',
          {
            operationId: 'createJob',
            parameters: [ref('parameters', 'IdempotencyKey'), ref('parameters', 'Prefer'), ref('parameters', 'DryRun')],
            requestBody: {
              required: true,
              content: json(ref('schemas', 'SendBulkEmailRequest')),
            },
          },
          {
            '200': ok(
              'The finished job (Prefer: wait=N, finished in time), or the plan of a dry run (?dry_run=true)',
              { oneOf: [ref('schemas', 'Job'), ref('schemas', 'DryRun')] },
              waited,
            ),
            '202': ok('The job is stored and queued (or Prefer: wait=N ran out)', ref('schemas', 'JobCreated'), waited),
          },
          [...ALWAYS, ...ROUTE_ERRORS.create],
        ),
      },
      '/openapi.json': {
        get: operation(
          'This document',
          { operationId: 'getOpenApi' },
          { '200': ok('This OpenAPI document, as data', { type: 'object' }) },
          [...ALWAYS, ...ROUTE_ERRORS.openapi],
        ),
      },
      '/{id}': {
        get: operation(
          'A job: status, counts, timestamps',
          { operationId: 'getJob', parameters: [jobId] },
          { '200': ok('The job', ref('schemas', 'Job')) },
          [...ALWAYS, ...ROUTE_ERRORS.job],
        ),
      },
      '/{id}/results': {
        get: operation(
          'Per-entry results, in index order, one page at a time',
          {
            operationId: 'getResults',
            parameters: [jobId, ref('parameters', 'Limit'), ref('parameters', 'Cursor')],
          },
          { '200': ok('One page of results', ref('schemas', 'ResultsPage')) },
          [...ALWAYS, ...ROUTE_ERRORS.results],
        ),
      },
      '/{id}/cancel': {
        post: operation(
          'Cancel every entry not yet handed to SES',
          { operationId: 'cancelJob', parameters: [jobId] },
          { '200': ok('The job, canceled', ref('schemas', 'Job')) },
          [...ALWAYS, ...ROUTE_ERRORS.cancel],
        ),
      },
      '/unsubscribe/{token}': {
        post: operation(
          'One-click unsubscribe (RFC 8058); called by mailbox providers, so no authenticate',
          {
            operationId: 'unsubscribe',
            parameters: [
              {
                name: 'token',
                in: 'path',
                required: true,
                schema: { type: 'string' },
              },
            ],
            requestBody: {
              required: false,
              content: {
                'application/x-www-form-urlencoded': {
                  schema: {
                    type: 'object',
                    properties: { 'List-Unsubscribe': { const: 'One-Click' } },
                  },
                },
              },
            },
          },
          {
            '200': ok('The address is unsubscribed (onUnsubscribe runs once per token)', {
              type: 'object',
              required: ['unsubscribed'],
              properties: { unsubscribed: { const: true } },
            }),
          },
          UNSUBSCRIBE_ERRORS,
        ),
      },
      '/events/sns': {
        post: operation(
          'SES delivery events from an Amazon SNS HTTPS subscription; called by SNS, so no authenticate',
          {
            operationId: 'snsEvents',
            requestBody: {
              required: true,
              description:
                'The SNS message as SNS posts it (Content-Type text/plain): signature versions 1 and 2 are verified, ' +
                'the topic must be listed in events.sns.topicArns',
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'object' } },
              },
            },
          },
          {
            '200': ok('Received (a repeated SNS MessageId is acknowledged and ignored)', {
              type: 'object',
              required: ['type', 'message_id', 'duplicate'],
              properties: {
                type: { enum: ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] },
                message_id: { type: 'string' },
                duplicate: { type: 'boolean' },
              },
            }),
          },
          SNS_EVENTS_ERRORS,
        ),
      },
    },
    components: {
      schemas: {
        SendBulkEmailRequest: schema,
        ErrorCode: { type: 'string', enum: Object.keys(ERROR_STATUS) },
        ValidationDetail: {
          type: 'object',
          required: ['path', 'message'],
          properties: {
            path: {
              type: 'string',
              description: 'JSON Pointer (RFC 6901) into the request body',
            },
            message: { type: 'string' },
          },
        },
        ErrorEnvelope: {
          type: 'object',
          required: ['success', 'error'],
          properties: {
            success: { const: false },
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: ref('schemas', 'ErrorCode'),
                message: {
                  type: 'string',
                  description: 'For humans; never a stack trace',
                },
                details: {
                  description:
                    'VALIDATION_ERROR: an array of ValidationDetail; SES_ERROR: { ses_code }; ' +
                    'QUOTA_EXCEEDED: { needed, remaining }',
                },
              },
            },
          },
        },
        JobStatus: {
          type: 'string',
          enum: Object.keys(JOB_STATUS),
          description: describe(JOB_STATUS),
        },
        JobCounts: {
          type: 'object',
          description: 'Always adds up to entries; suppressed and unknown are parts of failed',
          required: ['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown'],
          properties: Object.fromEntries(
            ['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown'].map((k) => [k, count()]),
          ),
        },
        JobCreated: {
          type: 'object',
          required: ['id', 'created_at', 'status', 'entries', 'recipients'],
          properties: {
            id: { type: 'string' },
            created_at: timestamp(),
            status: ref('schemas', 'JobStatus'),
            entries: count(),
            recipients: count(),
            estimated_completion_at: timestamp(),
          },
        },
        Job: {
          type: 'object',
          required: ['id', 'created_at', 'updated_at', 'status', 'entries', 'recipients', 'counts'],
          properties: {
            id: { type: 'string' },
            created_at: timestamp(),
            updated_at: timestamp(),
            status: ref('schemas', 'JobStatus'),
            entries: count(),
            recipients: count(),
            counts: ref('schemas', 'JobCounts'),
            completed_at: timestamp(),
            estimated_completion_at: timestamp(),
          },
        },
        EntryStatus: {
          type: 'string',
          enum: Object.keys(ENTRY_STATUS),
          description: describe(ENTRY_STATUS),
        },
        EntryResult: {
          type: 'object',
          required: ['index', 'status', 'attempts'],
          properties: {
            index: {
              ...count(),
              description: "The entry's index in BulkEmailEntries",
            },
            status: ref('schemas', 'EntryStatus'),
            message_id: { type: 'string' },
            error: { type: 'string' },
            attempts: count(),
          },
        },
        ResultsPage: {
          type: 'object',
          required: ['results', 'next_cursor'],
          properties: {
            results: { type: 'array', items: ref('schemas', 'EntryResult') },
            next_cursor: {
              type: ['string', 'null'],
              description: 'null on the last page',
            },
          },
        },
        DryRun: {
          type: 'object',
          required: ['dry_run', 'calls', 'suppressed', 'send_rate', 'estimated_completion_at'],
          properties: {
            dry_run: { const: true },
            calls: {
              type: 'array',
              description: 'The SES calls the job would make',
              items: {
                type: 'object',
                required: ['entries', 'recipients'],
                properties: {
                  entries: { type: 'array', items: count() },
                  recipients: count(),
                },
              },
            },
            suppressed: {
              type: 'array',
              items: count(),
              description: 'Indexes of entries that would be SUPPRESSED',
            },
            send_rate: { type: 'number', description: 'Recipients per second' },
            estimated_completion_at: timestamp(),
          },
        },
      },
      parameters: {
        JobId: {
          name: 'id',
          in: 'path',
          required: true,
          schema: { type: 'string' },
        },
        Limit: {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
        Cursor: {
          name: 'cursor',
          in: 'query',
          description: 'next_cursor of the previous page',
          schema: { type: 'string' },
        },
        DryRun: {
          name: 'dry_run',
          in: 'query',
          description: 'Run every check and hook, store and send nothing, answer 200 with the plan',
          schema: { type: 'boolean', default: false },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          description: 'Replays the first response for the same key and body (24 h), scoped to the principal',
          schema: {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            pattern: '^[!-~]+$',
          },
        },
        Prefer: {
          name: 'Prefer',
          in: 'header',
          description: 'RFC 7240 wait=N (N ≤ 60): wait up to N seconds and answer 200 with the job if it finished',
          schema: { type: 'string', examples: ['wait=30'] },
        },
      },
      headers: {
        RetryAfter: {
          description: 'Seconds to wait before retrying',
          schema: { type: 'integer', minimum: 1 },
        },
        Allow: {
          description: 'The methods this path accepts',
          schema: { type: 'string' },
        },
        IdempotentReplayed: {
          description: 'true when this is a replayed response',
          schema: { const: 'true' },
        },
        PreferenceApplied: { description: 'wait=N when Prefer: wait=N was honoured', schema: { type: 'string' } },
      },
    },
  };
}

function count() {
  return { type: 'integer', minimum: 0 };
}

function timestamp() {
  return { type: 'string', format: 'date-time', description: 'ISO 8601, UTC' };
}

function describe(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([value, meaning]) => `${value}: ${meaning}`)
    .join('; ');
}
