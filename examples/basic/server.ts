// Runs the basic example: PORT (default 3000), SES from the usual AWS environment variables.
import { createApp } from './app.js';

const { app, close } = createApp();
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`express-bulk-email basic example on http://127.0.0.1:${Number(process.env.PORT ?? 3000)}/bulk-email`);
});
process.on('SIGINT', () => {
  server.close();
  void close().then(() => process.exit(0));
});
