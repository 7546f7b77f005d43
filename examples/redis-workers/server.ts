// Runs the web process of the Redis example: PORT (default 3000), REDIS_URL, EBE_PREFIX, SEND_RATE, SES_ENDPOINT.
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { sendRateFromEnv, sesFromEnv } from './ses-config.js';

const { app, close } = createApp({
  ses: sesFromEnv(),
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.EBE_PREFIX,
  sendRate: sendRateFromEnv(),
});
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = server.address() as AddressInfo;
  console.log(`express-bulk-email web process on http://127.0.0.1:${port}/bulk-email (workers: worker-main.ts)`);
});

// Stop accepting, let requests in progress finish, then close the Redis connections.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeIdleConnections();
    server.close(() => void close());
  });
}
