// The reputation guard's arithmetic: a principal's rolling bounce and complaint rates, in time buckets. Pure.
//
// The window is cut into GUARD_BUCKETS buckets (1 h each for the default 24 h); a count lands in the bucket of its
// time, and the totals add every bucket that overlaps the window ending now — so the window is exact to one bucket
// (it may include up to one bucket more than the window). Memory per principal: at most GUARD_BUCKETS + 1 buckets.

export interface GuardConfig {
  /** Pause when bounced / messages reaches this (0..1). */
  bounceRate: number;
  /** Pause when complained / messages reaches this (0..1). */
  complaintRate: number;
  /** No verdict before this many messages are known in the window. */
  minMessages: number;
  windowMs: number;
}

/**
 * SES reviews an account at 5 % bounces or 0.1 % complaints and may pause it at 10 % / 0.5 %: the guard pauses one
 * principal when it reaches the review line, before that principal's list puts the shared account under review.
 */
export const DEFAULT_GUARD: GuardConfig = {
  bounceRate: 0.05,
  complaintRate: 0.001,
  minMessages: 500,
  windowMs: 24 * 3_600_000,
};

export const GUARD_BUCKETS = 24;

/** Recipients, by what became of them. `sent`: accepted by SES (SUCCESS), counted when the send call answered. */
export interface GuardCounts {
  sent: number;
  delivered: number;
  /** Hard bounces only (`Permanent`, not SES's own account suppression list): what SES's bounce rate counts. */
  bounced: number;
  complained: number;
}

export interface GuardBucket extends GuardCounts {
  /** Epoch ms at which the bucket starts (a multiple of the bucket width). */
  start: number;
}

export interface GuardRates extends GuardCounts {
  /** The rates' denominator: `max(sent, delivered + bounced)` — recipients whose mail left, however we learnt it. */
  messages: number;
  bounceRate: number;
  complaintRate: number;
}

export type GuardVerdict =
  | { pause: false; rates: GuardRates }
  | { pause: true; reason: 'BOUNCE_RATE' | 'COMPLAINT_RATE'; rates: GuardRates };

const ZERO: GuardCounts = { sent: 0, delivered: 0, bounced: 0, complained: 0 };
const FIELDS = ['sent', 'delivered', 'bounced', 'complained'] as const;

export function guardBucketWidth(config: Pick<GuardConfig, 'windowMs'>): number {
  return Math.ceil(config.windowMs / GUARD_BUCKETS);
}

/** The start of the bucket `at` falls in. */
export function guardBucketStart(at: number, config: Pick<GuardConfig, 'windowMs'>): number {
  const width = guardBucketWidth(config);
  return Math.floor(at / width) * width;
}

function inWindow(bucket: GuardBucket, now: number, config: Pick<GuardConfig, 'windowMs'>): boolean {
  return bucket.start + guardBucketWidth(config) > now - config.windowMs;
}

/**
 * Adds `counts` (at time `at`) to the buckets and drops the buckets that left the window ending at `at`. Returns new
 * buckets in time order; the input is not changed. Counts older than the window are not added.
 */
export function recordGuardCounts(
  buckets: readonly GuardBucket[],
  at: number,
  counts: Partial<GuardCounts>,
  config: Pick<GuardConfig, 'windowMs'>,
): GuardBucket[] {
  const newest = Math.max(at, ...buckets.map((b) => b.start));
  const kept = buckets.filter((b) => inWindow(b, newest, config)).map((b) => ({ ...b }));
  const start = guardBucketStart(at, config);
  if (!inWindow({ start, ...ZERO }, newest, config)) return kept;
  let bucket = kept.find((b) => b.start === start);
  if (!bucket) {
    bucket = { start, ...ZERO };
    kept.push(bucket);
    kept.sort((a, b) => a.start - b.start);
  }
  for (const field of FIELDS) {
    const add = counts[field] ?? 0;
    if (Number.isFinite(add) && add > 0) bucket[field] += add;
  }
  return kept;
}

/** The counts of every bucket that overlaps the window ending at `now`, and the rates they make. */
export function guardRates(
  buckets: readonly GuardBucket[],
  now: number,
  config: Pick<GuardConfig, 'windowMs'>,
): GuardRates {
  const totals = { ...ZERO };
  for (const bucket of buckets) {
    if (!inWindow(bucket, now, config) || bucket.start > now) continue;
    for (const field of FIELDS) totals[field] += bucket[field];
  }
  const messages = Math.max(totals.sent, totals.delivered + totals.bounced);
  return {
    ...totals,
    messages,
    bounceRate: messages ? totals.bounced / messages : 0,
    complaintRate: messages ? totals.complained / messages : 0,
  };
}

/**
 * Pause once at least `minMessages` are known and a rate reaches its threshold (`>=`: at exactly 5 % the account is
 * already at SES's review line). Bounces are looked at first.
 */
export function guardVerdict(rates: GuardRates, config: GuardConfig): GuardVerdict {
  if (rates.messages < config.minMessages) return { pause: false, rates };
  if (rates.bounceRate >= config.bounceRate) return { pause: true, reason: 'BOUNCE_RATE', rates };
  if (rates.complaintRate >= config.complaintRate) return { pause: true, reason: 'COMPLAINT_RATE', rates };
  return { pause: false, rates };
}
