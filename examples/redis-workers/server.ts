// Runs the web process of the Redis example: PORT (default 3000), REDIS_URL, SES_ENDPOINT (e.g. aws-ses-v2-local), API_KEYS.
import type { AddressInfo } from 'node:net';
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { createApp } from './app.js';

// SES_ENDPOINT points at a local emulator (dummy credentials); without it the SDK's usual AWS configuration is used.
const ses: SESv2ClientConfig = process.env.SES_ENDPOINT
  ? {
      endpoint: process.env.SES_ENDPOINT,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }
  : {};
// API_KEYS="key1=tenant1,key2=tenant2"; default: the demo keys of app.ts.
const apiKeys = process.env.API_KEYS
  ? Object.fromEntries(process.env.API_KEYS.split(',').map((pair) => pair.split('=', 2) as [string, string]))
  : undefined;

const rate = process.env.SEND_RATE;
const { app, close } = createApp({
  ses,
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.EBE_PREFIX,
  queueName: process.env.EBE_QUEUE,
  apiKeys,
  // For estimated_completion_at only; default: the account's MaxSendRate, as the workers read it.
  sendRate: rate === undefined || rate === 'account' ? undefined : Number(rate),
});
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = server.address() as AddressInfo;
  console.log(
    `express-bulk-email web process on http://127.0.0.1:${port}/bulk-email (start workers with worker-main.ts)`,
  );
});

// Stop accepting, let requests in progress (a Prefer: wait) finish, then close the Redis connections.
async function shutdown(): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await close();
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeIdleConnections();
    void shutdown().then(
      () => console.log('express-bulk-email web process stopped'),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  });
}
