// What a fault suite checks after a job: every entry's final result (through the HTTP results pages) and how many
// emails each address got from the SES emulator.
import type { Express } from 'express';
import request from 'supertest';
import type { SesEmulator } from '../helpers/ses-emulator.js';
import { until } from './queue-helpers.js';

export interface EntryOutcome {
  index: number;
  status: string;
}

/** Polls `GET /bulk-email/:id` until the job is `completed`; its data. */
export function completedJob(app: Express, id: string, ms: number) {
  return until(
    async () => {
      const res = await request(app).get(`/bulk-email/${id}`);
      return res.status === 200 && res.body.data.status === 'completed' ? res.body.data : null;
    },
    ms,
    'the job to complete',
  );
}

/** Every entry's result, page by page. */
export async function allResults(app: Express, id: string): Promise<EntryOutcome[]> {
  const results: EntryOutcome[] = [];
  let cursor: string | null = null;
  do {
    const page: request.Response = await request(app)
      .get(`/bulk-email/${id}/results`)
      .query({ limit: 1000, ...(cursor ? { cursor } : {}) })
      .expect(200);
    results.push(...page.body.data.results);
    cursor = page.body.data.next_cursor;
  } while (cursor);
  return results;
}

/** Address → how many emails the emulator stored for it. */
export async function emailCounts(ses: SesEmulator): Promise<Map<string, number>> {
  const emails = new Map<string, number>();
  for (const e of await ses.emails()) for (const to of e.destination.to) emails.set(to, (emails.get(to) ?? 0) + 1);
  return emails;
}

/**
 * Checks each entry's outcome after a fault: SUCCESS entries got exactly one email, UNKNOWN ones were in a call that
 * `mayHaveReached` says reached SES, nothing else. `address(index)` is the entry's To address. → count per status.
 */
export function checkOutcomes(
  results: readonly EntryOutcome[],
  emails: ReadonlyMap<string, number>,
  address: (index: number) => string,
  mayHaveReached: (address: string) => boolean,
  expectation: (actual: unknown, message: string) => { toBe(expected: unknown): void },
): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const to = address(r.index);
    if (r.status === 'SUCCESS') expectation(emails.get(to), `entry ${r.index}`).toBe(1);
    else if (r.status === 'UNKNOWN')
      expectation(mayHaveReached(to), `UNKNOWN entry ${r.index} was in no call that may have reached SES`).toBe(true);
    else throw new Error(`entry ${r.index} ended ${r.status}`);
  }
  return statuses;
}
