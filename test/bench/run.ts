// `npm run bench`: runs each benchmark in a fresh child process, prints one markdown table, writes the JSON results.
// BENCH_QUICK=1 for a ~1-minute smaller run; BENCH_ONLY=send-rate,big-job to run some; REDIS_URL for the Redis parts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { machine } from './support/machine.js';
import type { BenchContext, BenchResult, Row } from './support/result.js';
import { forkChild } from './support/rpc.js';

const BENCHES = [
  { id: 'send-rate', file: 'send-rate.ts', title: '1. Send-rate fidelity, single process' },
  { id: 'vs-nodemailer', file: 'vs-nodemailer.ts', title: '2. SES calls and time against nodemailer' },
  { id: 'accept-path', file: 'accept-path.ts', title: '3. Accept path (POST /) against a bare Express route' },
  { id: 'big-job', file: 'big-job.ts', title: '4. Big job and memory per stored entry' },
  { id: 'multi-worker', file: 'multi-worker.ts', title: '5. Several worker processes through Redis' },
  { id: 'fair-share', file: 'fair-share.ts', title: '6. Fair share between principals' },
  { id: 'telemetry', file: 'telemetry-overhead.ts', title: '7. OpenTelemetry overhead per accepted request' },
];

const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const ctx: BenchContext = { quick, redisUrl: process.env.REDIS_URL || undefined };
const root = fileURLToPath(new URL('../../', import.meta.url));

async function runOne(b: (typeof BENCHES)[number]): Promise<BenchResult> {
  const t0 = performance.now();
  console.error(`[bench] ${b.title} …`);
  let child: Awaited<ReturnType<typeof forkChild>> | undefined;
  try {
    child = await forkChild(fileURLToPath(new URL('./support/bench-child.ts', import.meta.url)));
    const result = await child.call<BenchResult>('run', { file: b.file, ctx });
    console.error(`[bench] ${b.id} done in ${(result.durationMs / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.error(`[bench] ${b.id} failed:`, err);
    return {
      id: b.id,
      title: b.title,
      rows: [{ scenario: '—', metric: 'error', value: message, met: null }],
      notes: [],
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    await child?.close();
  }
}

function cell(v: unknown): string {
  return String(v).replaceAll('|', '\\|');
}

function formatValue(r: Row): string {
  const v = typeof r.value === 'number' ? r.value.toLocaleString('en-US', { maximumFractionDigits: 3 }) : r.value;
  return r.unit ? `${v} ${r.unit}` : String(v);
}

function status(r: Row): string {
  if (r.met === true) return 'met';
  if (r.met === false) return '**MISSED**';
  if (r.met === null) return 'n/a';
  return '';
}

export function table(results: BenchResult[]): string {
  const lines = ['| bench | scenario | metric | value | goal | |', '| --- | --- | --- | --- | --- | --- |'];
  for (const res of results) {
    const n = res.title.split('.')[0];
    for (const r of res.rows) {
      lines.push(
        `| ${n} | ${cell(r.scenario)} | ${cell(r.metric)} | ${cell(formatValue(r))} | ${cell(r.goal ?? '')} | ${status(r)} |`,
      );
    }
  }
  return lines.join('\n');
}

const started = new Date();
const m = machine();
const loadAtStart = loadavg()[0];
const selected = BENCHES.filter((b) => !only || only.includes(b.id));
const results: BenchResult[] = [];
for (const b of selected) results.push(await runOne(b));

const command = `${ctx.redisUrl ? `REDIS_URL=${ctx.redisUrl} ` : ''}${quick ? 'BENCH_QUICK=1 ' : ''}npm run bench`;
const header = [
  `express-bulk-email benchmarks — ${quick ? 'quick' : 'full'} run, ${started.toISOString()}`,
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`,
  `Command: ${command} (total ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`,
  `Load average (1 min) at start / end: ${loadAtStart.toFixed(2)} / ${loadavg()[0].toFixed(2)} — other processes on the machine add timer jitter`,
];
const goals = results.flatMap((r) => r.rows).filter((r) => r.met === true || r.met === false);
const missed = goals.filter((r) => r.met === false).length;
console.log(`\n${header.join('\n')}\n\n${table(results)}\n`);
for (const r of results) {
  if (r.notes.length === 0) continue;
  console.log(`${r.title}:`);
  for (const note of r.notes) console.log(`  - ${note}`);
}
console.log(`\nGoals: ${goals.length - missed} met, ${missed} missed.`);

const json = {
  startedAt: started.toISOString(),
  quick,
  command,
  machine: m,
  loadAverage: { start: loadAtStart, end: loadavg()[0] },
  totalSeconds: Math.round((Date.now() - started.getTime()) / 1000),
  goals: { met: goals.length - missed, missed },
  results,
};
mkdirSync(`${root}bench-results`, { recursive: true });
writeFileSync(`${root}bench-results/latest.json`, `${JSON.stringify(json, null, 2)}\n`);
// The committed copy is only refreshed by a complete full run, so quick or partial runs never replace it.
if (!quick && !only) writeFileSync(`${root}test/bench/last-run.json`, `${JSON.stringify(json, null, 2)}\n`);
console.error(`[bench] wrote bench-results/latest.json${!quick && !only ? ' and test/bench/last-run.json' : ''}`);
// Missed goals are findings, not failures; a benchmark that could not run is.
if (results.some((r) => r.rows.some((row) => row.metric === 'error'))) process.exitCode = 1;
