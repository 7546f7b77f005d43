// Genuine SNS messages, signed by SNS itself (versions 1 and 2), verify — and stop verifying when touched.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { snsReceiver } from '../../../src/events/sns-receiver.js';
import { fakeClock } from '../../helpers/fake-clock.js';

const DIR = new URL('../../fixtures/sns/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, DIR), 'utf8');
const CERT = read('genuine-cert.pem');
const MESSAGES = { '1': read('genuine-v1.json'), '2': read('genuine-v2.json') };

function receiverAt(iso: string) {
  const fetched: string[] = [];
  const ingested: unknown[] = [];
  const messages = Object.values(MESSAGES).map((m) => JSON.parse(m));
  const receiver = snsReceiver({
    topicArns: messages.map((m) => m.TopicArn),
    fetchCertificate: async (url) => {
      fetched.push(url);
      return CERT;
    },
    ingest: (event) => {
      ingested.push(event);
    },
    clock: fakeClock(Date.parse(iso)),
  });
  return { receiver, fetched, ingested };
}

describe('genuine SNS messages (AWS SDK for Ruby test vectors)', () => {
  for (const [version, body] of Object.entries(MESSAGES)) {
    it(`verifies SNS's own signature version ${version}`, async () => {
      const { receiver, fetched } = receiverAt('2022-07-28T21:30:00Z');
      const receipt = await receiver.receive(body);
      expect(receipt).toEqual({ type: 'Notification', messageId: JSON.parse(body).MessageId, duplicate: false });
      expect(fetched).toEqual([
        'https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem',
      ]);
    });

    it(`refuses version ${version} with "Hello world" changed by one byte`, async () => {
      const { receiver } = receiverAt('2022-07-28T21:30:00Z');
      await expect(receiver.receive(body.replace('Hello world', 'Hello worle'))).rejects.toMatchObject({
        code: 'INVALID_SIGNATURE',
        cause: { reason: 'bad-signature' },
      });
    });

    it(`refuses version ${version} with an empty Subject added`, async () => {
      const { receiver } = receiverAt('2022-07-28T21:30:00Z');
      const withSubject = { ...JSON.parse(body), Subject: '' };
      await expect(receiver.receive(JSON.stringify(withSubject))).rejects.toMatchObject({
        cause: { reason: 'bad-signature' },
      });
    });
  }

  it('refuses them today: stale, and their certificate has expired', async () => {
    const { receiver } = receiverAt(new Date().toISOString());
    await expect(receiver.receive(MESSAGES['2'])).rejects.toMatchObject({ cause: { reason: 'stale' } });
    const late = receiverAt('2022-08-18T00:00:00Z');
    const body = { ...JSON.parse(MESSAGES['2']), Timestamp: '2022-08-18T00:00:00.000Z' };
    await expect(late.receiver.receive(JSON.stringify(body))).rejects.toMatchObject({
      cause: { reason: 'certificate-not-valid-now' },
    });
  });
});
