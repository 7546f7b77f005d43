// Posts signed sample SES events for a job: `tsx examples/ses-events/post-sample-events.ts <job id> [api key]`.
// The first run makes a demo key and certificate (openssl) and says how to start the server so that it trusts them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postSampleEvents } from './sample-events.js';

const dir = join(tmpdir(), 'express-bulk-email-sns-demo');
const key = join(dir, 'key.pem');
const cert = join(dir, 'cert.pem');
if (!existsSync(cert)) {
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert].concat([
      '-days',
      '30',
      '-subj',
      '/CN=sns.amazonaws.com',
    ]),
    { stdio: 'ignore' },
  );
  console.log(
    `Made a demo signing key. Start the server with DEMO_SIGNING_CERT=${cert}, send a job, then run me again.`,
  );
  process.exit(0);
}
const [jobId, apiKey = 'key-acme'] = process.argv.slice(2);
if (!jobId) {
  console.error('usage: post-sample-events.ts <job id> [api key]');
  process.exit(2);
}
const baseUrl = process.env.BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}/bulk-email`;
const statuses = await postSampleEvents(
  baseUrl,
  jobId,
  { 'x-api-key': apiKey },
  {
    keyPem: readFileSync(key, 'utf8'),
    topicArn: process.env.SES_EVENTS_TOPIC_ARN ?? 'arn:aws:sns:us-east-1:123456789012:ses-events',
    certUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-demo.pem',
  },
);
console.log(`posted ${statuses.length} events: HTTP ${statuses.join(', ')}; see GET ${baseUrl}/${jobId}/results`);
