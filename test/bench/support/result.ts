// What every benchmark returns: rows of figures (with their goal and whether it was met) plus notes, and small statistics.

export interface Row {
  /** e.g. `rate 200/s`, `ours`, `ratio`. */
  scenario: string;
  metric: string;
  /** A number, or a word such as `pending` / `skipped`. */
  value: number | string;
  unit?: string;
  /** Human-readable goal, e.g. `≥ 0.97`. */
  goal?: string;
  /** true/false when a goal applies and was evaluated; null when it could not be (e.g. skipped). */
  met?: boolean | null;
}

export interface BenchResult {
  id: string;
  title: string;
  rows: Row[];
  notes: string[];
  durationMs: number;
}

export interface BenchContext {
  quick: boolean;
  redisUrl?: string;
}

export type Bench = (ctx: BenchContext) => Promise<Omit<BenchResult, 'durationMs'>>;

/** A row whose goal is "value ≥ min". */
export const atLeast = (scenario: string, metric: string, value: number, min: number, unit?: string): Row => ({
  scenario,
  metric,
  value,
  unit,
  goal: `≥ ${min}`,
  met: value >= min,
});

/** A row whose goal is "value ≤ max". */
export const atMost = (scenario: string, metric: string, value: number, max: number, unit?: string): Row => ({
  scenario,
  metric,
  value,
  unit,
  goal: `≤ ${max}`,
  met: value <= max,
});

/** A row whose goal is "value = expected". */
export const exactly = (scenario: string, metric: string, value: number, expected: number, unit?: string): Row => ({
  scenario,
  metric,
  value,
  unit,
  goal: `= ${expected}`,
  met: value === expected,
});

/** The emulator stored exactly one email per recipient: `n` emails, `n` distinct addresses, no duplicates. */
export const oneEach = (
  scenario: string,
  n: number,
  ses: { emails: number; recipients: number; duplicates: number },
): Row => ({
  scenario,
  metric: 'emails stored (distinct, duplicates)',
  value: `${ses.emails} (${ses.recipients}, ${ses.duplicates})`,
  goal: `${n} (${n}, 0)`,
  met: ses.emails === n && ses.recipients === n && ses.duplicates === 0,
});

export const info = (scenario: string, metric: string, value: number | string, unit?: string): Row => ({
  scenario,
  metric,
  value,
  unit,
});

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Rounds to `digits` significant decimals for display and JSON. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** CPU time (user + system) in ms since `mark`. */
export function cpuMsSince(mark: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(mark);
  return (d.user + d.system) / 1000;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
