// `npm start`: the SES emulator (or real SES when AWS settings are present), the basic example app, and a demo bulk send over HTTP.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import * as emulator from 'aws-ses-v2-local';
import { createApp } from './basic/app.js';

const ENTRIES = Number(process.env.DEMO_ENTRIES ?? 300);
const once = process.env.DEMO_ONCE === '1';

/** A full GetAccount answer for the emulator, so sendRate: 'account' reads a real-looking quota. */
const EMULATOR_ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: 'EN',
    MailType: 'MARKETING',
    ReviewDetails: { CaseId: 'demo', Status: 'GRANTED' },
    UseCaseDescription: 'demo',
    WebsiteURL: 'https://example.com',
  },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 50000, MaxSendRate: 100, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: [] },
};

function realSesConfigured(): boolean {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const credentials =
    process.env.AWS_ACCESS_KEY_ID ?? process.env.AWS_PROFILE ?? process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  return Boolean(region && credentials);
}

async function startEmulator(): Promise<{ ses: SESv2Client; inbox: string; server: Server }> {
  process.env.AWS_SES_ACCOUNT ??= JSON.stringify(EMULATOR_ACCOUNT);
  type Start = (o: { host: string; port: number }) => Promise<Server>;
  const mod = emulator as unknown as { default: Start | { default: Start } };
  const start = typeof mod.default === 'function' ? mod.default : mod.default.default;
  const server = await start({ host: '127.0.0.1', port: Number(process.env.SES_PORT ?? 0) });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const ses = new SESv2Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
  });
  return { ses, inbox: url, server };
}

function demoBody(from: string, recipient: (i: number) => string) {
  return {
    FromEmailAddress: from,
    DefaultContent: {
      Template: {
        TemplateContent: {
          Subject: 'Your November statement, {{name}}',
          Text: 'Hello {{name}},\n\nYour balance is {{balance}}.\n\n-- Demo Bank',
          Html: '<h1>Hello {{name}}</h1><p>Your balance is <b>{{balance}}</b>.</p>',
        },
        TemplateData: JSON.stringify({ name: 'customer', balance: '0.00 EUR' }),
      },
    },
    BulkEmailEntries: Array.from({ length: ENTRIES }, (_, i) => ({
      Destination: { ToAddresses: [recipient(i)] },
      ReplacementEmailContent: {
        ReplacementTemplate: {
          ReplacementTemplateData: JSON.stringify({
            name: `Customer ${i + 1}`,
            balance: `${(i * 13.37).toFixed(2)} EUR`,
          }),
        },
      },
    })),
  };
}

async function main() {
  let ses: SESv2Client;
  let inbox: string | undefined;
  let sesServer: Server | undefined;
  let from = 'Demo Bank <statements@demo-bank.example>';
  let recipient = (i: number) => `customer${i + 1}@example.com`;
  if (realSesConfigured()) {
    if (!process.env.DEMO_FROM) {
      console.error(
        'AWS settings found: the demo would use real SES. Set DEMO_FROM to a verified sender address first.',
      );
      process.exit(2);
    }
    console.log(
      `Using REAL Amazon SES in ${process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION}; recipients are SES mailbox-simulator addresses.`,
    );
    ses = new SESv2Client({});
    from = process.env.DEMO_FROM;
    recipient = (i) => `success+demo${i + 1}@simulator.amazonses.com`;
  } else {
    ({ ses, inbox, server: sesServer } = await startEmulator());
    console.log(`SES emulator (aws-ses-v2-local) on ${inbox}`);
  }

  const { app, close } = createApp({ ses, sendRate: 'account' });
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bulk-email`;
  console.log(`express-bulk-email listening on ${base}`);

  console.log(`POST ${base}  (${ENTRIES} personalised entries)`);
  const created = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `demo-${Date.now()}` },
    body: JSON.stringify(demoBody(from, recipient)),
  });
  const accepted = (await created.json()) as { success: boolean; data: { id: string }; error?: unknown };
  console.log(`${created.status} ${JSON.stringify(accepted)}`);
  if (!accepted.success) process.exit(1);

  let job: { status: string; counts: Record<string, number> } | undefined;
  let envelope: unknown;
  for (;;) {
    const res = await fetch(`${base}/${accepted.data.id}`);
    envelope = await res.json();
    job = (envelope as { data: typeof job }).data;
    if (!job) break;
    const c = job.counts;
    console.log(`  ${job.status.padEnd(9)} sent ${c.sent}/${ENTRIES}  failed ${c.failed}  pending ${c.pending}`);
    if (job.status === 'completed' || job.status === 'canceled') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log('Final job:');
  console.log(JSON.stringify(envelope, null, 2));
  const page = await (await fetch(`${base}/${accepted.data.id}/results?limit=3`)).json();
  console.log(`First results: ${JSON.stringify(page)}`);
  if (inbox) console.log(`\nSee the ${ENTRIES} emails in the emulator's web inbox: ${inbox}/`);

  const shutdown = async () => {
    server.close();
    await close();
    sesServer?.close();
  };
  if (once) {
    await shutdown();
    process.exit(job?.status === 'completed' ? 0 : 1);
  }
  console.log('Serving until Ctrl-C.');
  process.on('SIGINT', () => {
    void shutdown().then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
