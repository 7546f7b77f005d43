// Quota-aware admission and the completion estimate, as pure arithmetic, and the ledger of outstanding work.
import { describe, expect, it } from 'vitest';
import { admissionLedger, admit } from '../../src/http/admission.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { JobRecord } from '../../src/types.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');

describe('admit', () => {
  it('estimates the work queued ahead plus this job at the send rate', () => {
    const out = admit({ recipients: 100, outstanding: 50, remaining: null, rate: 10, policy: 'refuse', now: NOW });
    expect(out.estimatedCompletionAt).toBe(new Date(NOW + 15_000).toISOString());
  });

  it("refuses with QUOTA_EXCEEDED { needed, remaining } under 'refuse' when the job does not fit", () => {
    expect(() =>
      admit({ recipients: 30, outstanding: 5, remaining: 20, rate: 10, policy: 'refuse', now: NOW }),
    ).toThrow(expect.objectContaining({ code: 'QUOTA_EXCEEDED', status: 429, details: { needed: 30, remaining: 15 } }));
  });

  it("defers under 'defer': accepted, with the overflow waiting for the rolling 24-hour window", () => {
    const out = admit({ recipients: 30, outstanding: 0, remaining: 10, rate: 10, policy: 'defer', now: NOW });
    expect(Date.parse(out.estimatedCompletionAt!) - NOW).toBe(24 * 3600 * 1000 + 2000);
  });

  it('treats -1 (unlimited) and null (unknown) as no quota; no rate means no estimate', () => {
    expect(() =>
      admit({ recipients: 1e9, outstanding: 0, remaining: -1, rate: 1, policy: 'refuse', now: NOW }),
    ).not.toThrow();
    expect(
      admit({ recipients: 1, outstanding: 0, remaining: null, rate: undefined, policy: 'refuse', now: NOW }),
    ).toEqual({});
  });
});

describe('admissionLedger', () => {
  function job(id: string, entries: number): JobRecord {
    const at = new Date(NOW).toISOString();
    return {
      id,
      principalId: 'p',
      status: 'queued',
      createdAt: at,
      updatedAt: at,
      entries,
      recipients: entries,
      counts: { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 },
    };
  }

  it('counts pending recipients of tracked jobs, adds new ones at once, and forgets finished jobs on recount', async () => {
    let now = NOW;
    const store = memoryStore();
    const ledger = admissionLedger(store, () => now);
    await store.createJob(job('a', 10), { content: { DefaultContent: {} } }, []);
    ledger.track('a', 10);
    expect(await ledger.outstanding()).toBe(10);
    await store.createJob(job('b', 4), { content: { DefaultContent: {} } }, []);
    ledger.track('b', 4);
    expect(await ledger.outstanding()).toBe(14);
    await store.finishPending('a', { status: 'CANCELED', cancel: true });
    now += 1000;
    expect(await ledger.outstanding()).toBe(4);
  });
});
