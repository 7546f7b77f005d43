// The response check the suites run on every answer: it passes what the document says and fails everything else.
import { describe, expect, it } from 'vitest';
import { type ObservedResponse, responseChecker } from '../helpers/openapi-check.js';

const { check } = responseChecker();
const JSON_TYPE = 'application/json; charset=utf-8';
const JOB = {
  id: 'a3c1a0a2-0f43-4d36-9a57-6c3a7f0c2b11',
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:01.000Z',
  status: 'sending',
  entries: 2,
  recipients: 2,
  counts: { sent: 1, failed: 0, pending: 1, canceled: 0, suppressed: 0, unknown: 0 },
  send_rate: 100,
  send_rate_source: 'option',
};

function res(over: Partial<ObservedResponse> & { json?: unknown }): ObservedResponse {
  const { json, ...rest } = over;
  return {
    method: 'GET',
    path: `/bulk-email/${JOB.id}`,
    status: 200,
    contentType: JSON_TYPE,
    body: JSON.stringify(json ?? { success: true, data: JOB }),
    ...rest,
  };
}

describe('responseChecker', () => {
  it('passes an answer the document describes', () => {
    expect(check(res({}))).toEqual([]);
    expect(check(res({ path: `/bulk-email/${JOB.id}/`, method: 'HEAD', body: '' }))).toEqual([]);
    const page = {
      success: true,
      data: {
        results: [{ index: 0, status: 'SUCCESS', recipients: ['a@example.com'], attempts: 1, opened: 0, clicked: 0 }],
        next_cursor: null,
      },
    };
    expect(check(res({ path: `/bulk-email/${JOB.id}/results?limit=1`, json: page }))).toEqual([]);
  });

  it('fails a field the document does not name, a missing field, a wrong type or an unknown enum value', () => {
    expect(check(res({ json: { success: true, data: { ...JOB, createdAt: JOB.created_at } } })).join()).toMatch(
      /must NOT have additional properties/,
    );
    const { counts: _, ...noCounts } = JOB;
    expect(check(res({ json: { success: true, data: noCounts } })).join()).toMatch(
      /must have required property 'counts'/,
    );
    expect(check(res({ json: { success: true, data: { ...JOB, entries: '2' } } })).join()).toMatch(/must be integer/);
    expect(check(res({ json: { success: true, data: { ...JOB, status: 'running' } } })).join()).toMatch(
      /must be equal to one of the allowed values/,
    );
    expect(check(res({ json: { success: true, data: { ...JOB, created_at: 'yesterday' } } })).join()).toMatch(
      /must match format "date-time"/,
    );
  });

  it('fails a status the document does not list for the operation, and an error code at another status', () => {
    const notFound = { success: false, error: { code: 'NOT_FOUND', message: 'No job' } };
    expect(check(res({ status: 404, json: notFound }))).toEqual([]);
    expect(check(res({ status: 409, json: notFound })).join()).toMatch(/status 409 is not in the document/);
    const cancelable = { success: false, error: { code: 'NOT_CANCELABLE', message: 'finished' } };
    expect(check(res({ status: 409, path: `/bulk-email/${JOB.id}/cancel`, method: 'POST', json: cancelable }))).toEqual(
      [],
    );
    // NOT_CANCELABLE is a 409, but GET /{id} never answers it.
    expect(check(res({ status: 404, json: cancelable })).join()).toMatch(/must be equal to one of the allowed values/);
  });

  it('fails a body that is not the declared content type or not JSON', () => {
    expect(check(res({ contentType: 'text/html; charset=utf-8', body: '<p>hi</p>' })).join()).toMatch(
      /content type text\/html; charset=utf-8 is not in the document/,
    );
    expect(check(res({ body: '{"success":' })).join()).toMatch(/not JSON/);
  });

  it('holds every answer where no operation is (unknown route, wrong method) to the error envelope', () => {
    const notFound = { success: false, error: { code: 'NOT_FOUND', message: 'No route GET /a/b/c' } };
    expect(check(res({ path: '/bulk-email/a/b/c', status: 404, json: notFound }))).toEqual([]);
    expect(check(res({ path: '/bulk-email/a/b/c', status: 500, json: notFound })).join()).toMatch(
      /NOT_FOUND is answered with 404/,
    );
    const wrongMethod = { success: false, error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } };
    expect(check(res({ method: 'DELETE', status: 405, json: wrongMethod }))).toEqual([]);
    expect(check(res({ method: 'HEAD', path: '/bulk-email', status: 405, body: '' }))).toEqual([]);
    expect(check(res({ method: 'DELETE', status: 405, json: { error: 'nope' } })).length).toBeGreaterThan(0);
    expect(check(res({ path: '/bulk-email/a/b/c', status: 404, contentType: 'text/html', body: 'x' }))).toHaveLength(1);
  });

  it('serves the document raw: an envelope there fails, the document passes', () => {
    const path = '/bulk-email/openapi.json';
    expect(check(res({ path, json: { openapi: '3.1.0', info: {}, paths: {} } }))).toEqual([]);
    expect(check(res({ path, json: { success: true, data: { openapi: '3.1.0' } } })).join()).toMatch(
      /must have required property 'openapi'/,
    );
  });

  it('leaves alone responses that are not the router’s', () => {
    expect(check(res({ path: '/health', contentType: 'text/plain', body: 'ok' }))).toEqual([]);
    expect(check(res({ path: '/bulk-emailer/x', status: 418, body: 'teapot' }))).toEqual([]);
    expect(
      check(res({ path: '/v2/email/outbound-bulk-emails', method: 'POST', json: { BulkEmailEntryResults: [] } })),
    ).toEqual([]);
  });
});
