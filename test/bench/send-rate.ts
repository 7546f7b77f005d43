// Bench 1 — send-rate fidelity in one process: HTTP → router → SES-metered fault proxy → SES emulator, at several rates.
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import type { BulkEmailEvent } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Backend, type SesCall, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import {
  atLeast,
  atMost,
  type Bench,
  exactly,
  info,
  oneEach,
  type Row,
  round,
  sleep,
  until,
} from './support/result.js';

export interface RateFigures {
  /** (recipients − those of the last call) ÷ (last − first arrival): the schedule's pace as the endpoint saw it. */
  arrivalRate: number;
  spanMs: number;
}

/** Pace of the delivered (not throttled) calls as seen by the endpoint. */
export function arrivalRate(calls: SesCall[]): RateFigures {
  const ok = calls.filter((c) => c.fault === null).sort((a, b) => a.at - b.at);
  if (ok.length < 2) return { arrivalRate: Number.NaN, spanMs: 0 };
  const total = ok.reduce((n, c) => n + c.recipients, 0);
  const spanMs = ok[ok.length - 1].at - ok[0].at;
  return { arrivalRate: ((total - ok[ok.length - 1].recipients) * 1000) / spanMs, spanMs };
}

const FULL = [
  { rate: 14, recipients: 350 },
  { rate: 50, recipients: 1500 },
  { rate: 200, recipients: 6000 },
  { rate: 1000, recipients: 10_000 },
];
const QUICK = [
  { rate: 14, recipients: 200 },
  { rate: 50, recipients: 500 },
  { rate: 200, recipients: 2000 },
  { rate: 1000, recipients: 5000 },
];

interface Scenario {
  rate: number;
  recipients: number;
  /** How the endpoint meters: as SES does (default), or the strict trailing 1-s window. */
  meter?: 'ses' | 'window';
  maxRecipientsPerCall?: number;
  /** A second POST of this many entries lands mid-send (and is canceled at once). */
  stall?: number;
}

/** One job at `rate`; with `stall`, a second POST of that many entries lands mid-send (and is canceled at once). */
async function scenario(backend: Backend, sc: Scenario) {
  const { rate, recipients, stall } = sc;
  await backend.clear();
  const proxyUrl = await backend.startProxy({ kind: 'fault', limitRate: rate, meter: sc.meter });
  let completedAt = 0;
  const router = bulkEmail({
    ses: { endpoint: proxyUrl, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    sendRate: rate,
    maxRecipientsPerCall: sc.maxRecipientsPerCall,
    authenticate: () => ({ id: 'bench' }),
    maxEntries: 100_000,
    bodyLimit: '64mb',
    onEvent: (e: BulkEmailEvent) => {
      if (e.type === 'job.completed') completedAt = Date.parse(e.at);
    },
  });
  const server = await listen(express().use('/bulk-email', router));
  try {
    const big = stall ? JSON.stringify(bulkBody(stall, { domain: 'big.example.com' })) : undefined;
    const job = await postJob(`${server.url}/bulk-email`, bulkBody(recipients));
    let bigSent = 0;
    let bigMs = 0;
    if (big) {
      await sleep(((recipients / rate) * 1000) / 3);
      const accepted = await postJob(`${server.url}/bulk-email`, big);
      bigMs = accepted.ms;
      const res = await fetch(`${server.url}/bulk-email/${accepted.id}/cancel`, { method: 'POST' });
      bigSent = ((await res.json()) as { data: { counts: { sent: number } } }).data.counts.sent;
    }
    await until('the job to complete', () => (completedAt ? true : undefined), (recipients / rate) * 3000 + 30_000, 20);
    const ses = await backend.report();
    return { ...arrivalRate(ses.calls), ses, jobMs: completedAt - Date.parse(job.createdAt), bigSent, bigMs };
  } finally {
    await router.close();
    await server.close();
  }
}

export const run: Bench = async ({ quick }) => {
  const backend = await startBackend();
  const rows: Row[] = [];
  const notes: string[] = [
    'Rate = recipients delivered, minus the last call’s, ÷ (last − first arrival at the endpoint); the job rate (created → completed, HTTP 202 and last round trip included) is shown for reference.',
    'The endpoint meters as SES does: a budget of R recipients refilling at R/s; a call is accepted while at least 1 is left and all its recipients are counted (429 otherwise). Calls are full (50 entries) at every rate: after a call of k recipients the next leaves k/R later, so any 1-s window holds at most R + one call.',
  ];
  const throttled = (r: Awaited<ReturnType<typeof scenario>>) =>
    r.ses.calls.filter((c) => c.fault === 'throttle').length;
  try {
    for (const { rate, recipients } of quick ? QUICK : FULL) {
      const r = await scenario(backend, { rate, recipients });
      const s = `rate ${rate}/s`;
      const delivered = r.ses.calls.filter((c) => c.fault === null);
      rows.push(
        exactly(
          s,
          `SES calls for ${recipients} recipients (goal ⌈N/50⌉)`,
          delivered.length,
          Math.ceil(recipients / 50),
        ),
        info(s, 'recipients per call', round(recipients / delivered.length, 1)),
        atLeast(s, 'achieved / configured (arrivals)', round(r.arrivalRate / rate), 0.97),
        info(s, 'achieved / configured (job created → completed)', round((recipients * 1000) / r.jobMs / rate)),
        info(s, 'first → last arrival', round(r.spanMs / 1000, 2), 's'),
        info(s, 'max recipients in any 1 s ÷ rate (bound 1 + 50/R)', round(r.ses.maxRecipientsPerSecond / rate)),
        exactly(s, 'throttled calls (429)', throttled(r), 0),
        oneEach(s, recipients, r.ses),
      );
    }
    // maxRecipientsPerCall: for an endpoint stricter than SES (a trailing 1-s window of 1.1 × R), smaller calls.
    {
      const rate = 200;
      const recipients = quick ? 1000 : 3000;
      const cap = rate / 20;
      const r = await scenario(backend, { rate, recipients, meter: 'window', maxRecipientsPerCall: cap });
      const s = `rate ${rate}/s, strict 1-s window, maxRecipientsPerCall ${cap}`;
      const delivered = r.ses.calls.filter((c) => c.fault === null);
      rows.push(
        info(s, 'SES calls', `${delivered.length} (${round(recipients / delivered.length, 1)} recipients each)`),
        atLeast(s, 'achieved / configured (arrivals)', round(r.arrivalRate / rate), 0.97),
        atMost(s, 'max recipients in any 1 s ÷ rate', round(r.ses.maxRecipientsPerSecond / rate), 1.1),
        exactly(s, 'throttled calls (429)', throttled(r), 0),
        oneEach(s, recipients, r.ses),
      );
      notes.push(
        `Strict-window scenario: an endpoint that throttles any trailing second above 1.1 × R (stricter than SES). maxRecipientsPerCall = R/20 keeps calls small enough for it.`,
      );
    }
    if (!quick) {
      // Same process, same event loop: a big POST mid-send stalls the sender's timers (it is not one of the brief's goals).
      const rate = 1000;
      const recipients = 6000;
      const big = 50_000;
      const r = await scenario(backend, { rate, recipients, stall: big });
      const s = `rate ${rate}/s + ${big / 1000}k-entry POST mid-send`;
      rows.push(
        info(s, 'time to 202 of the big POST (event loop busy)', round(r.bigMs, 0), 'ms'),
        info(s, 'achieved / configured (arrivals)', round(r.arrivalRate / rate)),
        info(s, 'max recipients in any 1 s ÷ rate', round(r.ses.maxRecipientsPerSecond / rate)),
        info(s, 'throttled calls (429)', throttled(r)),
        oneEach(s, recipients + r.bigSent, r.ses),
      );
      notes.push(
        `Last scenario: while the ${recipients}-recipient job sends at ${rate}/s, a ${big.toLocaleString('en-US')}-entry POST reaches the same process and is canceled right after its 202; its rows are information, not goals (see the report).`,
      );
    }
  } finally {
    await backend.close();
  }
  return { id: 'send-rate', title: '1. Send-rate fidelity, single process', rows, notes };
};
