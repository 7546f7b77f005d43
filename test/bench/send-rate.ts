// Bench 1 — send-rate fidelity in one process: HTTP → router → rate-limiting fault proxy → SES emulator, at several rates.
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import type { BulkEmailEvent } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesCall, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import { atLeast, atMost, type Bench, exactly, info, oneEach, type Row, round, until } from './support/result.js';

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
  { rate: 50, recipients: 750 },
  { rate: 200, recipients: 3000 },
  { rate: 1000, recipients: 6000 },
];
const QUICK = [
  { rate: 50, recipients: 200 },
  { rate: 200, recipients: 800 },
  { rate: 1000, recipients: 3000 },
];

export const run: Bench = async ({ quick }) => {
  const backend = await startBackend();
  const rows: Row[] = [];
  const notes: string[] = [
    'Rate = recipients delivered, minus the last call’s, ÷ (last − first arrival at the endpoint); the job rate (created → completed, HTTP 202 and last round trip included) is shown for reference.',
    'The proxy throttles (429) any call that would take its trailing 1-s window above 1.1 × rate, like SES.',
  ];
  try {
    for (const { rate, recipients } of quick ? QUICK : FULL) {
      await backend.clear();
      const proxyUrl = await backend.startProxy({ kind: 'fault', limitRate: rate });
      let completedAt = 0;
      const router = bulkEmail({
        ses: {
          endpoint: proxyUrl,
          region: 'us-east-1',
          credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        },
        sendRate: rate,
        authenticate: () => ({ id: 'bench' }),
        onEvent: (e: BulkEmailEvent) => {
          if (e.type === 'job.completed') completedAt = Date.parse(e.at);
        },
      });
      const server = await listen(express().use('/bulk-email', router));
      try {
        const job = await postJob(`${server.url}/bulk-email`, bulkBody(recipients));
        await until(
          'the job to complete',
          () => (completedAt ? true : undefined),
          (recipients / rate) * 3000 + 30_000,
          20,
        );
        const ses = await backend.report();
        const { arrivalRate: achieved, spanMs } = arrivalRate(ses.calls);
        const jobMs = completedAt - Date.parse(job.createdAt);
        const s = `rate ${rate}/s`;
        const throttles = ses.calls.filter((c) => c.fault === 'throttle').length;
        const delivered = ses.calls.filter((c) => c.fault === null);
        rows.push(
          info(
            s,
            'recipients × calls',
            `${recipients} in ${delivered.length} calls (${round(recipients / delivered.length, 1)}/call)`,
          ),
          atLeast(s, 'achieved / configured (arrivals)', round(achieved / rate), 0.97),
          info(s, 'achieved / configured (job created → completed)', round((recipients * 1000) / jobMs / rate)),
          info(s, 'first → last arrival', round(spanMs / 1000, 2), 's'),
          atMost(s, 'max recipients in any 1 s ÷ rate', round(ses.maxRecipientsPerSecond / rate), 1.1),
          exactly(s, 'throttled calls (429)', throttles, 0),
          oneEach(s, recipients, ses),
        );
      } finally {
        await router.close();
        await server.close();
      }
    }
  } finally {
    await backend.close();
  }
  return { id: 'send-rate', title: '1. Send-rate fidelity, single process', rows, notes };
};
