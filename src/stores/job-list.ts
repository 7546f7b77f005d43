// The job list (GET /) as both stores build it: one sort key per job, and a page picked from the jobs looked at.
import type { JobListPage, JobListPosition, JobListQuery, JobRecord } from '../types.js';

/** Most jobs a filtered page looks at (`JobListQuery.scanLimit` default). */
export const DEFAULT_LIST_SCAN = 1000;

/** A job's place in its principal's list: sorts as (creation ms, id) when compared as strings. */
export function listKey(at: number, id: string): string {
  return `${String(Math.max(0, Math.floor(at))).padStart(15, '0')}:${id}`;
}

export function positionOfKey(key: string): JobListPosition {
  const cut = key.indexOf(':');
  return { at: Number(key.slice(0, cut)), id: key.slice(cut + 1) };
}

export const keyOfJob = (job: JobRecord) => listKey(Date.parse(job.createdAt), job.id);

/** How many keys a page looks at: `limit`, or the scan bound when filtering (plus one more, to know if any is left). */
export function listScan(query: JobListQuery): number {
  const limit = Math.max(1, Math.floor(query.limit));
  return query.statuses ? Math.max(limit, Math.floor(query.scanLimit ?? DEFAULT_LIST_SCAN)) : limit;
}

/**
 * Picks a page from the keys looked at, newest first (`keys` holds up to listScan(query) + 1 of them; `records[i]` is
 * the job of `keys[i]`, null when it is gone). The page ends at `limit` jobs or after the scan bound.
 */
export function pickPage(
  keys: readonly string[],
  records: readonly (JobRecord | null)[],
  query: JobListQuery,
): JobListPage {
  const scan = listScan(query);
  const wanted = query.statuses ? new Set(query.statuses) : null;
  const jobs: JobRecord[] = [];
  const seen = Math.min(scan, keys.length);
  for (let i = 0; i < seen; i++) {
    const job = records[i];
    if (!job || (wanted && !wanted.has(job.status))) continue;
    jobs.push(job);
    if (jobs.length === query.limit) return { jobs, next: i < keys.length - 1 ? positionOfKey(keys[i]) : null };
  }
  return { jobs, next: keys.length > scan ? positionOfKey(keys[scan - 1]) : null };
}
