// `?status=` and `?delivery=` on GET /:id/results: parsed strictly, and a filtered page that scans a bounded number of entries.
import { validationError } from '../errors.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../events/ses-event.js';
import { STATUS_NAMES } from '../stores/entry-codes.js';
import type { EntryResult, EntryStatus, Store } from '../types.js';
import { MAX_PAGE } from './pagination.js';

/** `NONE`: sent entries SES has reported nothing about yet (and entries never sent). */
export type DeliveryFilterValue = DeliveryStatus | 'NONE';

export interface ResultsFilter {
  status?: ReadonlySet<EntryStatus>;
  delivery?: ReadonlySet<DeliveryFilterValue>;
}

/** Entries one filtered page looks at, at most: a page may hold fewer than `limit` results (even none) and a cursor. */
export const MAX_SCANNED = 5 * MAX_PAGE;
const MAX_VALUES = 32;

const STATUS_VALUES: readonly string[] = [...new Set(STATUS_NAMES)];
const DELIVERY_VALUES: readonly string[] = [...DELIVERY_STATUSES, 'NONE'];

/** A comma list (or repeated parameter) of known values, upper-cased (or lower-cased); 400 naming the parameter otherwise. */
export function valuesOf(
  raw: unknown,
  name: string,
  known: readonly string[],
  letters: 'upper' | 'lower' = 'upper',
): Set<string> | undefined {
  if (raw === undefined) return undefined;
  const parts = Array.isArray(raw) ? raw : [raw];
  const values = new Set<string>();
  for (const part of parts) {
    if (typeof part !== 'string' || part.length > 1024) {
      throw validationError({ path: `/${name}`, message: `${name} must be a comma-separated list` });
    }
    for (const value of part.split(',')) {
      const v = letters === 'upper' ? value.trim().toUpperCase() : value.trim().toLowerCase();
      if (!known.includes(v)) {
        const shown = JSON.stringify(value.trim().slice(0, 64));
        throw validationError({ path: `/${name}`, message: `${name} ${shown} is not one of ${known.join(', ')}` });
      }
      values.add(v);
    }
  }
  if (values.size > MAX_VALUES) throw validationError({ path: `/${name}`, message: `${name} lists too many values` });
  return values;
}

/** The filter a query asks for, or undefined for none. Unknown values are a 400 VALIDATION_ERROR naming the parameter. */
export function parseResultsFilter(query: Record<string, unknown>): ResultsFilter | undefined {
  const status = valuesOf(query.status, 'status', STATUS_VALUES) as Set<EntryStatus> | undefined;
  const delivery = valuesOf(query.delivery, 'delivery', DELIVERY_VALUES) as Set<DeliveryFilterValue> | undefined;
  if (!status && !delivery) return undefined;
  return { status, delivery };
}

export function matchesFilter(filter: ResultsFilter, result: EntryResult): boolean {
  if (filter.status && !filter.status.has(result.status)) return false;
  if (filter.delivery && !filter.delivery.has(result.delivery?.status ?? 'NONE')) return false;
  return true;
}

export interface FilteredPage {
  results: EntryResult[];
  /** The last index looked at; null when the scan reached the job's last entry. */
  lastScanned: number | null;
}

/**
 * Up to `limit` results after `after` that match, looking at no more than MAX_SCANNED entries (in batches of at
 * most MAX_PAGE): the work of one page is bounded whatever the filter. Continue from `lastScanned`.
 */
export async function filteredPage(
  store: Pick<Store, 'getResults'>,
  job: { id: string; entries: number },
  after: number,
  limit: number,
  filter: ResultsFilter,
): Promise<FilteredPage> {
  const results: EntryResult[] = [];
  let last = after;
  while (last - after < MAX_SCANNED && last < job.entries - 1) {
    const batch = await store.getResults(job.id, last, Math.min(MAX_PAGE, MAX_SCANNED - (last - after)));
    if (batch.length === 0) return { results, lastScanned: null };
    for (const result of batch) {
      last = result.index;
      if (!matchesFilter(filter, result)) continue;
      results.push(result);
      if (results.length === limit) return { results, lastScanned: last < job.entries - 1 ? last : null };
    }
  }
  return { results, lastScanned: last < job.entries - 1 ? last : null };
}
