// Runs the dashboard example: PORT (default 3000), SES from the usual AWS environment variables. Sign in at / as
// alice / alice-password, then open /bulk-email/dashboard.
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const { app, close } = createApp({ sessionSecret: process.env.SESSION_SECRET });
const server = app.listen(port, () => {
  console.log(`express-bulk-email dashboard example: sign in at http://127.0.0.1:${port}/`);
});
process.on('SIGINT', () => {
  server.close();
  void close().then(() => process.exit(0));
});
