// Runs the ses-events example: PORT (default 3000), SES_EVENTS_TOPIC_ARN, ADMIN_TOKEN; DEMO_SIGNING_CERT for the demo.
import { readFileSync } from 'node:fs';
import { createApp } from './app.js';

const topicArn = process.env.SES_EVENTS_TOPIC_ARN ?? 'arn:aws:sns:us-east-1:123456789012:ses-events';
// Demo only: trust the certificate post-sample-events.ts made instead of SNS's own. Never set it in production.
const demoCert = process.env.DEMO_SIGNING_CERT;
const { app, close } = createApp({
  topicArns: [topicArn],
  adminToken: process.env.ADMIN_TOKEN,
  fetchCertificate: demoCert ? async () => readFileSync(demoCert, 'utf8') : undefined,
});
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  console.log(`express-bulk-email ses-events example on http://127.0.0.1:${port}/bulk-email (SNS: /events/sns)`);
  if (demoCert) console.warn(`DEMO: SNS messages signed with the key of ${demoCert} are trusted`);
});
process.on('SIGINT', () => {
  server.close();
  void close().then(() => process.exit(0));
});
