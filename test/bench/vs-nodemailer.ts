// Bench 2 — SES calls, wall time and CPU: N personalised single-recipient emails through this package and through
// nodemailer 7's SES transport with an equal concurrency pool, against the same emulator behind a fixed-latency proxy.
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import express from 'express';
import nodemailer from 'nodemailer';
import { bulkEmail } from '../../src/index.js';
import type { BulkEmailEvent } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Backend, type SesReport, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import { type Bench, cpuMsSince, exactly, info, median, oneEach, type Row, round, until } from './support/result.js';

const LATENCY_MS = 20;
/** The package's default in-flight SES calls per process; the nodemailer pool gets the same size. */
const CONCURRENCY = 8;
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

interface Sample {
  wallMs: number;
  cpuMs: number;
  calls: number;
  ses: SesReport;
}

async function viaPackage(backend: Backend, n: number): Promise<Sample> {
  await backend.clear();
  const endpoint = await backend.startProxy({ kind: 'latency', delayMs: LATENCY_MS });
  let done = false;
  const router = bulkEmail({
    ses: { endpoint, region: 'us-east-1', credentials },
    sendRate: 100_000,
    concurrency: CONCURRENCY,
    authenticate: () => ({ id: 'bench' }),
    onEvent: (e: BulkEmailEvent) => {
      if (e.type === 'job.completed') done = true;
    },
  });
  const server = await listen(express().use('/bulk-email', router));
  const body = JSON.stringify(bulkBody(n));
  try {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await postJob(`${server.url}/bulk-email`, body);
    await until('the job to complete', () => (done ? true : undefined), 120_000, 1);
    const wallMs = performance.now() - t0;
    const cpuMs = cpuMsSince(cpu);
    const ses = await backend.report();
    return { wallMs, cpuMs, calls: ses.paths['/v2/email/outbound-bulk-emails'] ?? 0, ses };
  } finally {
    await router.close();
    await server.close();
  }
}

/** The same personalisation the emulator applies to the bulk template ({{name}}, {{code}}), done by the app. */
function render(template: string, data: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => data[k] ?? '');
}

async function viaNodemailer(backend: Backend, n: number): Promise<Sample> {
  await backend.clear();
  const endpoint = await backend.startProxy({ kind: 'latency', delayMs: LATENCY_MS });
  const sesClient = new SESv2Client({ endpoint, region: 'us-east-1', credentials });
  // nodemailer 7: `SES: { sesClient, SendEmailCommand }` with @aws-sdk/client-sesv2 (lib/ses-transport/index.js).
  const transporter = nodemailer.createTransport({ SES: { sesClient, SendEmailCommand } });
  const { DefaultContent, FromEmailAddress, BulkEmailEntries } = bulkBody(n);
  const template = DefaultContent.Template?.TemplateContent ?? {};
  try {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const entry = BulkEmailEntries[i];
        const data = JSON.parse(entry.ReplacementEmailContent?.ReplacementTemplate?.ReplacementTemplateData ?? '{}');
        await transporter.sendMail({
          from: FromEmailAddress,
          to: entry.Destination.ToAddresses,
          subject: render(template.Subject ?? '', data),
          text: render(template.Text ?? '', data),
          html: render(template.Html ?? '', data),
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const wallMs = performance.now() - t0;
    const cpuMs = cpuMsSince(cpu);
    const ses = await backend.report();
    return { wallMs, cpuMs, calls: ses.paths['/v2/email/outbound-emails'] ?? 0, ses };
  } finally {
    transporter.close();
    sesClient.destroy();
  }
}

export const run: Bench = async ({ quick }) => {
  const n = quick ? 1000 : 2000;
  const rounds = quick ? 1 : 3;
  const backend = await startBackend();
  const ours: Sample[] = [];
  const theirs: Sample[] = [];
  try {
    // Warm-up (JIT, SDK, connections), not recorded.
    await viaPackage(backend, 100);
    await viaNodemailer(backend, 100);
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so neither side always runs on a warmer or more fragmented heap.
      if (r % 2 === 0) {
        ours.push(await viaPackage(backend, n));
        theirs.push(await viaNodemailer(backend, n));
      } else {
        theirs.push(await viaNodemailer(backend, n));
        ours.push(await viaPackage(backend, n));
      }
    }
  } finally {
    await backend.close();
  }
  const m = (xs: Sample[], k: 'wallMs' | 'cpuMs') => median(xs.map((x) => x[k]));
  const sesCpu = (xs: Sample[]) => median(xs.map((x) => x.ses.cpuMs));
  const rows: Row[] = [
    exactly('ours', 'SES calls', ours[0].calls, Math.ceil(n / 50)),
    info('ours', 'wall time', round(m(ours, 'wallMs'), 0), 'ms'),
    info('ours', 'CPU time (sending process)', round(m(ours, 'cpuMs'), 0), 'ms'),
    info('ours', 'CPU time (SES side: proxy + emulator)', round(sesCpu(ours), 0), 'ms'),
    oneEach('ours', n, ours[0].ses),
    exactly('nodemailer', 'SES calls', theirs[0].calls, n),
    info('nodemailer', 'wall time', round(m(theirs, 'wallMs'), 0), 'ms'),
    info('nodemailer', 'latency floor (N ÷ pool × latency)', Math.ceil(n / CONCURRENCY) * LATENCY_MS, 'ms'),
    info('nodemailer', 'CPU time (sending process)', round(m(theirs, 'cpuMs'), 0), 'ms'),
    info('nodemailer', 'CPU time (SES side: proxy + emulator)', round(sesCpu(theirs), 0), 'ms'),
    oneEach('nodemailer', n, theirs[0].ses),
    info('ratio', 'SES calls nodemailer ÷ ours', round(theirs[0].calls / ours[0].calls, 1), '×'),
    info('ratio', 'wall time nodemailer ÷ ours', round(m(theirs, 'wallMs') / m(ours, 'wallMs'), 1), '×'),
    info('ratio', 'CPU time nodemailer ÷ ours', round(m(theirs, 'cpuMs') / m(ours, 'cpuMs'), 1), '×'),
  ];
  return {
    id: 'vs-nodemailer',
    title: '2. SES calls and time against nodemailer',
    rows,
    notes: [
      `N = ${n} single-recipient emails, personalised; median of ${rounds} alternating round(s) after a warm-up. Every request to SES waits ${LATENCY_MS} ms in a proxy.`,
      `Ours: POST / over HTTP (validation included) → job completed, sendRate 100000 so the pacing never waits, concurrency ${CONCURRENCY} (default). nodemailer 7: createTransport({ SES: { sesClient, SendEmailCommand } }), ${CONCURRENCY} concurrent sendMail() loops, subject/text/html rendered by the app.`,
      'CPU time = process.cpuUsage() delta (user + system) of the sending process; the emulator and proxy run in another process. The emulator parses each raw MIME message (nodemailer) or renders each bulk entry (ours): shown as SES-side CPU, not part of the ratio.',
    ],
  };
};
