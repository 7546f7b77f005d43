// The OpenAPI document: 3.1-shaped, every route the router has and every error code, the request schema ajv runs.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, type ErrorCode } from '../../src/errors.js';
import { buildOpenApi, type OpenApiDocument } from '../../src/validation/openapi.js';
import { createValidator } from '../../src/validation/validator.js';
import { httpApp } from '../helpers/http-app.js';

/** Options that switch on every optional route (a new route behind an option: switch it on here). */
const EVERY_ROUTE = {
  unsubscribe: { secret: 'a-very-secret-secret-of-32-chars', url: 'https://example.com/u', onUnsubscribe() {} },
  events: { sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:ses-events'] } },
  dashboard: true,
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Follows a local `$ref` (`#/components/…`) in the document. */
function resolveRef(doc: OpenApiDocument, value: unknown): Record<string, unknown> {
  const ref = (value as { $ref?: string }).$ref;
  if (!ref) return value as Record<string, unknown>;
  return ref
    .slice(2)
    .split('/')
    .reduce<Record<string, unknown>>((node, token) => node?.[token] as Record<string, unknown>, doc as never);
}

function operations(doc: OpenApiDocument): [string, string, Record<string, unknown>][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(
        ([method, op]) => [path, method, op as Record<string, unknown>] as [string, string, Record<string, unknown>],
      ),
  );
}

function collectRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') out.push(child);
      else collectRefs(child, out);
    }
  }
  return out;
}

describe('buildOpenApi', () => {
  const validator = createValidator({ maxEntries: 500 });
  const doc = buildOpenApi({
    schema: validator.schema,
    title: 'Mail API',
    version: '2.3.4',
  });

  it('is an OpenAPI 3.1 document with info and JSON-serializable content', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Mail API', version: '2.3.4' });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(buildOpenApi().info).toMatchObject({
      title: 'express-bulk-email',
      version: '1.0.0',
    });
  });

  it('lists every route the Express router registers, and nothing else', async () => {
    const h = httpApp(EVERY_ROUTE);
    try {
      const stack = (h.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] })
        .stack;
      const registered = stack.flatMap(({ route }) =>
        route
          ? Object.keys(route.methods)
              .filter((m) => m !== '_all')
              .map((m) => `${m.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`)
          : [],
      );
      const documented = operations(doc).map(([path, method]) => `${method.toUpperCase()} ${path}`);
      expect(registered.length).toBeGreaterThan(4);
      expect(documented.sort()).toEqual(registered.sort());
    } finally {
      await h.close();
    }
    for (const [, , op] of operations(doc)) {
      expect(op.summary).toEqual(expect.any(String));
      expect(op.operationId).toEqual(expect.any(String));
      expect(Object.keys(op.responses as object).length).toBeGreaterThan(1);
    }
  });

  it('embeds the very schema object the validator compiled as the request body', () => {
    expect(doc.components.schemas.SendBulkEmailRequest).toBe(validator.schema);
    const body = (
      doc.paths['/'].post as {
        requestBody: { content: Record<string, { schema: unknown }> };
      }
    ).requestBody;
    expect(resolveRef(doc, body.content['application/json'].schema)).toBe(validator.schema);
    expect(validator.schema.properties.BulkEmailEntries.maxItems).toBe(500);
    expect(
      buildOpenApi({ maxEntries: 7 }).components.schemas.SendBulkEmailRequest.properties.BulkEmailEntries.maxItems,
    ).toBe(7);
  });

  it('lists 409 IDEMPOTENCY_IN_FLIGHT on the unsubscribe route (a repeat while onUnsubscribe still runs)', () => {
    const op = doc.paths['/unsubscribe/{token}'].post as {
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    const schema = resolveRef(doc, op.responses['409']?.content['application/json'].schema) as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(schema.properties.error.properties.code.enum).toContain('IDEMPOTENCY_IN_FLIGHT');
  });

  it('lists every error code under its HTTP status somewhere', () => {
    const listed = new Map<ErrorCode, Set<string>>();
    for (const [, , op] of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, Record<string, unknown>>)) {
        const schema = (response.content as Record<string, { schema: Record<string, unknown> }>)['application/json']
          ?.schema;
        const codes = ((
          schema?.properties as Record<string, { properties: { code: { enum: ErrorCode[] } } }> | undefined
        )?.error?.properties.code.enum ?? []) as ErrorCode[];
        for (const code of codes) listed.set(code, (listed.get(code) ?? new Set()).add(status));
      }
    }
    for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
      expect([...(listed.get(code) ?? [])], code).toEqual(expect.arrayContaining([String(status)]));
      expect(
        [...(listed.get(code) ?? [])].every((s) => s === String(status)),
        code,
      ).toBe(true);
    }
    expect((doc.components.schemas.ErrorCode as { enum: string[] }).enum).toEqual(Object.keys(ERROR_STATUS));
  });

  it('resolves every $ref inside the document', () => {
    for (const ref of collectRefs(doc)) {
      expect(ref.startsWith('#/components/'), ref).toBe(true);
      expect(resolveRef(doc, { $ref: ref }), ref).toBeDefined();
    }
  });

  it('documents the headers and query parameters of POST / and the pagination of results', () => {
    const names = (path: string, method: string) =>
      ((doc.paths[path][method] as { parameters: unknown[] }).parameters ?? []).map((p) => {
        const param = resolveRef(doc, p);
        return `${param.in}:${param.name}`;
      });
    expect(names('/', 'post')).toEqual(['header:Idempotency-Key', 'header:Prefer', 'query:dry_run', 'query:send_at']);
    expect(names('/', 'get')).toEqual(['query:limit', 'query:cursor', 'query:status']);
    expect(names('/{id}/pause', 'post')).toEqual(['path:id']);
    expect(names('/{id}/resume', 'post')).toEqual(['path:id']);
    expect(resolveRef(doc, { $ref: '#/components/parameters/JobLimit' }).schema).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
    });
    expect(names('/{id}/results', 'get')).toEqual([
      'path:id',
      'query:limit',
      'query:cursor',
      'query:status',
      'query:delivery',
    ]);
    expect(names('/suppressions', 'get')).toEqual(['query:limit', 'query:cursor']);
    expect(names('/suppressions/{address}', 'put')).toEqual(['path:address']);
    expect(names('/suppressions/{address}', 'delete')).toEqual(['path:address']);
    const limit = resolveRef(doc, { $ref: '#/components/parameters/Limit' });
    expect(limit.schema).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 100,
    });
  });

  it('describes jobs and results in snake_case', () => {
    const { JobView, JobCounts, ResultView, JobStatus, ResultsPage, DryRunPlan } = doc.components.schemas as Record<
      string,
      {
        properties?: Record<string, unknown>;
        enum?: string[];
        required?: string[];
      }
    >;
    expect(Object.keys(JobView.properties ?? {})).toEqual([
      'id',
      'created_at',
      'updated_at',
      'status',
      'entries',
      'recipients',
      'counts',
      'send_rate',
      'send_rate_source',
      'completed_at',
      'estimated_completion_at',
      'send_at',
      'paused_reason',
      'error',
    ]);
    expect(Object.keys(JobCounts.properties ?? {})).toEqual([
      'sent',
      'failed',
      'pending',
      'canceled',
      'suppressed',
      'unknown',
      'delivered',
      'bounced',
      'complained',
    ]);
    expect(JobCounts.required).toEqual(['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown']);
    expect(JobStatus.enum).toEqual(['scheduled', 'queued', 'sending', 'paused', 'completed', 'failed', 'canceled']);
    expect(Object.keys(ResultView.properties ?? {})).toEqual([
      'index',
      'status',
      'recipients',
      'message_id',
      'error',
      'attempts',
      'delivery',
      'opened',
      'clicked',
    ]);
    expect(ResultView.required).toEqual(['index', 'status', 'recipients', 'attempts', 'opened', 'clicked']);
    expect(Object.keys(ResultsPage.properties ?? {})).toEqual(['results', 'next_cursor']);
    expect(DryRunPlan.required).toEqual([
      'dry_run',
      'entries',
      'recipients',
      'calls',
      'suppressed',
      'invalid',
      'send_rate',
      'send_rate_source',
      'estimated_completion_at',
    ]);
  });

  it('holds component schemas that ajv (draft 2020-12) compiles', () => {
    const ajv = new Ajv2020({ strict: false, logger: false });
    addFormatsPlugin.default(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components } as never);
    for (const name of Object.keys(doc.components.schemas)) {
      expect(ajv.getSchema(`doc#/components/schemas/${name}`), name).toBeTypeOf('function');
    }
  });
});
