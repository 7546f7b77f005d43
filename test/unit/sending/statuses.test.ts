// The one status table: every SES status handled, codes pinned (the Redis store persists them), every reader agrees.
import { readFileSync } from 'node:fs';
import { BulkEmailStatus } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { classifyEntryStatus } from '../../../src/sending/classify.js';
import { ENTRY_STATUSES, SES_STATUS_HANDLING, STATUS_MEANING } from '../../../src/sending/statuses.js';
import { STATUS_NAMES, statusCode } from '../../../src/stores/entry-codes.js';
import { buildOpenApi } from '../../../src/validation/openapi.js';

describe('the entry status table', () => {
  it("handles every status of the SDK's BulkEmailStatus, and only those are SES's", () => {
    expect(Object.keys(SES_STATUS_HANDLING).sort()).toEqual(Object.values(BulkEmailStatus).sort());
    for (const [status, kind] of Object.entries(SES_STATUS_HANDLING)) expect(classifyEntryStatus(status)).toBe(kind);
    // Statuses SES adds later are final for their entry (never retried blindly).
    expect(classifyEntryStatus('SOMETHING_NEW')).toBe('final');
  });

  it('keeps the stored codes: index = code, as persisted by the Redis store', () => {
    expect(STATUS_NAMES).toEqual([
      'PENDING',
      'PENDING',
      'SUCCESS',
      'CANCELED',
      'SUPPRESSED',
      'UNKNOWN',
      'MESSAGE_REJECTED',
      'MAIL_FROM_DOMAIN_NOT_VERIFIED',
      'CONFIGURATION_SET_NOT_FOUND',
      'TEMPLATE_NOT_FOUND',
      'ACCOUNT_SUSPENDED',
      'ACCOUNT_THROTTLED',
      'ACCOUNT_DAILY_QUOTA_EXCEEDED',
      'INVALID_SENDING_POOL_NAME',
      'ACCOUNT_SENDING_PAUSED',
      'CONFIGURATION_SET_SENDING_PAUSED',
      'INVALID_PARAMETER',
      'TRANSIENT_FAILURE',
      'FAILED',
    ]);
    const codes = Object.values(ENTRY_STATUSES).map((s) => s.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, { code }] of Object.entries(ENTRY_STATUSES)) expect(statusCode(name)).toBe(code);
    expect(statusCode('TEMPLATE_DOES_NOT_EXIST')).toBe(ENTRY_STATUSES.TEMPLATE_NOT_FOUND.code);
    expect(statusCode('SOMETHING_NEW')).toBe(ENTRY_STATUSES.FAILED.code);
  });

  it('is what the OpenAPI document lists, with its meanings', () => {
    const doc = buildOpenApi() as unknown as {
      components: { schemas: Record<string, { enum: string[]; description: string }> };
    };
    const schema = doc.components.schemas.EntryStatus;
    expect(schema.enum).toEqual(Object.keys(ENTRY_STATUSES));
    for (const meaning of Object.values(STATUS_MEANING)) expect(schema.description).toContain(meaning);
  });

  it("the dashboard's Failed filter lists every failed SES status (the browser asset cannot import the table)", () => {
    const js = readFileSync(new URL('../../../src/dashboard/assets/dashboard.js', import.meta.url), 'utf8');
    const failed = js.match(/'Failed',\s*'([A-Z_,]+)'/)?.[1].split(',');
    expect(failed?.sort()).toEqual(
      Object.keys(SES_STATUS_HANDLING)
        .filter((s) => s !== 'SUCCESS')
        .sort(),
    );
  });
});
