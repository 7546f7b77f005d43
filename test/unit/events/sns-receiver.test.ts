// snsReceiver(): every SNS case through the function, plus replays, confirmations, certificates and failures.
import { beforeAll, describe, expect, it } from 'vitest';
import { isBulkEmailError } from '../../../src/errors.js';
import { parseSnsMessage, snsStringToSign } from '../../../src/events/sns-message.js';
import { flush } from '../../helpers/fake-clock.js';
import { DAY, SES_BOUNCE, SNS_CASES, type SnsHarness, snsHarness } from '../../helpers/sns-cases.js';
import {
  CERT_URL,
  TOPIC_ARN,
  type TestAuthority,
  confirmation,
  createTestAuthority,
  notification,
  snsBody,
  stringToSign,
} from '../../helpers/sns-signer.js';

let auth: TestAuthority;
beforeAll(() => {
  auth = createTestAuthority();
});

async function outcome(h: SnsHarness, body: string | Buffer) {
  try {
    return { status: 200, receipt: await h.receiver.receive(body) };
  } catch (err) {
    if (!isBulkEmailError(err)) throw err;
    return { status: err.status, code: err.code, reason: (err.cause as { reason?: string } | undefined)?.reason };
  }
}

describe('snsReceiver: every case', () => {
  for (const c of SNS_CASES) {
    it(c.name, async () => {
      const h = snsHarness(auth);
      const result = await outcome(h, c.body(h, auth));
      expect(result.status).toBe(c.status);
      if (c.code) expect(result.code).toBe(c.code);
      if (c.reason) expect(result.reason).toBe(c.reason);
      expect(h.ingested).toHaveLength(c.ingested);
      if (c.fetched !== undefined) expect(h.fetched).toHaveLength(c.fetched);
      if (c.status === 200) expect(result.receipt?.duplicate).toBe(false);
    });
  }
});

describe('snsReceiver', () => {
  it('hands the parsed SES event to ingest and answers its type and MessageId', async () => {
    const h = snsHarness(auth);
    const fields = h.sign(notification(SES_BOUNCE, h.clock.now()));
    const receipt = await h.receiver.receive(snsBody(fields));
    expect(receipt).toEqual({ type: 'Notification', messageId: fields.MessageId, duplicate: false });
    expect(h.ingested).toEqual([SES_BOUNCE]);
  });

  it('takes the body as text, bytes or a parsed object alike', async () => {
    const h = snsHarness(auth);
    for (const form of ['text', 'bytes', 'object'] as const) {
      const fields = h.sign(notification(SES_BOUNCE, h.clock.now()));
      const body = form === 'text' ? snsBody(fields) : form === 'bytes' ? Buffer.from(snsBody(fields)) : fields;
      expect((await h.receiver.receive(body)).duplicate).toBe(false);
    }
    expect(h.ingested).toHaveLength(3);
  });

  it('builds the signed string exactly as SNS does (written twice, independently), ending with a newline', () => {
    const h = snsHarness(auth);
    for (const fields of [
      notification(SES_BOUNCE, 0),
      notification(SES_BOUNCE, 0, { Subject: undefined }),
      notification(SES_BOUNCE, 0, { Subject: '' }),
      confirmation(0),
      confirmation(0, TOPIC_ARN, 'UnsubscribeConfirmation'),
    ]) {
      const parsed = parseSnsMessage(h.sign(fields));
      if (!parsed.ok) throw new Error(parsed.problem);
      expect(snsStringToSign(parsed.message)).toBe(stringToSign(fields));
      expect(snsStringToSign(parsed.message).endsWith('\n')).toBe(true);
    }
    const parsed = parseSnsMessage(h.sign(notification('m', 0, { MessageId: 'id', Subject: 's', Timestamp: 't' })));
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(snsStringToSign(parsed.message)).toBe(
      `Message\nm\nMessageId\nid\nSubject\ns\nTimestamp\nt\nTopicArn\n${TOPIC_ARN}\nType\nNotification\n`,
    );
  });

  it('ignores a repeated MessageId: acknowledged as a duplicate, ingested once', async () => {
    const h = snsHarness(auth);
    const body = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    expect((await h.receiver.receive(body)).duplicate).toBe(false);
    expect((await h.receiver.receive(body)).duplicate).toBe(true);
    expect((await h.receiver.receive(body)).duplicate).toBe(true);
    expect(h.ingested).toHaveLength(1);
  });

  it('does not let a forged copy of a MessageId block the genuine message', async () => {
    const h = snsHarness(auth);
    const genuine = h.sign(notification(SES_BOUNCE, h.clock.now()));
    const forged = { ...genuine, Message: genuine.Message?.replace('Permanent', 'Transient') };
    await expect(h.receiver.receive(snsBody(forged))).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
    expect((await h.receiver.receive(snsBody(genuine))).duplicate).toBe(false);
    expect(h.ingested).toHaveLength(1);
  });

  it('forgets the MessageId when ingest fails, so that SNS’s retry is processed', async () => {
    let fail = true;
    const ingested: unknown[] = [];
    const h = snsHarness(auth, {
      ingest: async (event) => {
        if (fail) throw new Error('store down');
        ingested.push(event);
      },
    });
    const body = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    await expect(h.receiver.receive(body)).rejects.toThrow('store down');
    fail = false;
    expect((await h.receiver.receive(body)).duplicate).toBe(false);
    expect(ingested).toHaveLength(1);
  });

  it('downloads each certificate once for many messages', async () => {
    const h = snsHarness(auth);
    await Promise.all(
      Array.from({ length: 5 }, () => h.receiver.receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))))),
    );
    for (let i = 0; i < 5; i++) await h.receiver.receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))));
    expect(h.fetched).toEqual([CERT_URL]);
    expect(h.ingested).toHaveLength(10);
  });

  it('tries the download again after a failure (failures are not cached)', async () => {
    const h = snsHarness(auth);
    const pem = h.certificates.get(CERT_URL) as string;
    h.certificates.delete(CERT_URL);
    const first = snsBody(h.sign(notification(SES_BOUNCE, h.clock.now())));
    await expect(h.receiver.receive(first)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    h.certificates.set(CERT_URL, pem);
    expect((await h.receiver.receive(first)).duplicate).toBe(false);
    expect(h.fetched).toEqual([CERT_URL, CERT_URL]);
  });

  it('refuses a certificate that is not PEM as invalid (403), not unavailable', async () => {
    const h = snsHarness(auth);
    h.certificates.set(CERT_URL, 'not a certificate');
    await expect(h.receiver.receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))))).rejects.toMatchObject({
      code: 'INVALID_SIGNATURE',
      cause: { reason: 'invalid-certificate' },
    });
  });

  it('refuses a message signed with an expired certificate', async () => {
    const h = snsHarness(auth);
    await h.clock.advance(31 * DAY);
    await expect(h.receiver.receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))))).rejects.toMatchObject({
      code: 'INVALID_SIGNATURE',
      cause: { reason: 'certificate-not-valid-now' },
    });
    expect(h.ingested).toHaveLength(0);
  });

  it('refuses a message signed with a certificate that is not valid yet', async () => {
    const h = snsHarness(auth, {}, Date.now() - DAY);
    await expect(h.receiver.receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now()))))).rejects.toMatchObject({
      cause: { reason: 'certificate-not-valid-now' },
    });
    expect(h.ingested).toHaveLength(0);
  });

  it('logs why a message was refused (for the operator), without telling the caller', async () => {
    const h = snsHarness(auth);
    const err = await h.receiver
      .receive(snsBody(h.sign(notification(SES_BOUNCE, h.clock.now(), { TopicArn: 'arn:aws:sns:us-east-1:1:x' }))))
      .catch((e: Error) => e);
    expect((err as Error).message).toBe('The SNS message could not be verified');
    expect(h.warnings).toEqual([
      expect.objectContaining({
        topicArn: 'arn:aws:sns:us-east-1:1:x',
        refusal: expect.objectContaining({ reason: 'topic-not-listed' }),
      }),
    ]);
  });
});

describe('snsReceiver: subscriptions', () => {
  it('acknowledges a listed topic’s confirmation at once and confirms it in the background, once', async () => {
    let release: () => void = () => {};
    const confirmed: string[] = [];
    const h = snsHarness(auth, {
      confirmSubscription: (url) =>
        new Promise<void>((resolve) => {
          confirmed.push(url);
          release = resolve;
        }),
    });
    const fields = h.sign(confirmation(h.clock.now()));
    const receipt = await h.receiver.receive(snsBody(fields));
    expect(receipt).toEqual({ type: 'SubscriptionConfirmation', messageId: fields.MessageId, duplicate: false });
    // answered while the confirmation is still under way
    expect(confirmed).toEqual([fields.SubscribeURL]);
    expect((await h.receiver.receive(snsBody(fields))).duplicate).toBe(true);
    release();
    await h.receiver.close();
    expect(confirmed).toEqual([fields.SubscribeURL]);
    expect(h.ingested).toHaveLength(0);
  });

  it('never confirms an unlisted topic’s subscription (403)', async () => {
    const h = snsHarness(auth);
    const attacker = 'arn:aws:sns:us-east-1:999999999999:attacker-topic';
    await expect(h.receiver.receive(snsBody(h.sign(confirmation(h.clock.now(), attacker))))).rejects.toMatchObject({
      code: 'INVALID_SIGNATURE',
      status: 403,
      cause: { reason: 'topic-not-listed' },
    });
    await h.receiver.close();
    expect(h.confirmed).toEqual([]);
    expect(h.fetched).toEqual([]);
  });

  it('retries a failed confirmation, then logs that it gave up', async () => {
    let attempts = 0;
    const h = snsHarness(auth, {
      confirmSubscription: async () => {
        attempts++;
        throw new Error('network');
      },
    });
    await h.receiver.receive(snsBody(h.sign(confirmation(h.clock.now()))));
    await h.clock.advance(2000);
    await h.clock.advance(10_000);
    await h.receiver.close();
    expect(attempts).toBe(3);
    expect(h.warnings).toEqual([expect.objectContaining({ topicArn: TOPIC_ARN, attempts: 3 })]);
  });

  it('confirms on a later attempt after a transient failure', async () => {
    let attempts = 0;
    const h = snsHarness(auth, {
      confirmSubscription: async () => {
        if (++attempts === 1) throw new Error('network');
      },
    });
    await h.receiver.receive(snsBody(h.sign(confirmation(h.clock.now()))));
    await h.clock.advance(2000);
    await flush();
    await h.receiver.close();
    expect(attempts).toBe(2);
    expect(h.warnings).toEqual([]);
  });

  it('acknowledges an UnsubscribeConfirmation without visiting any URL, and warns the operator', async () => {
    const h = snsHarness(auth);
    const fields = h.sign(confirmation(h.clock.now(), TOPIC_ARN, 'UnsubscribeConfirmation'));
    expect(await h.receiver.receive(snsBody(fields))).toMatchObject({ type: 'UnsubscribeConfirmation' });
    await h.receiver.close();
    expect(h.confirmed).toEqual([]);
    expect(h.warnings).toEqual([expect.objectContaining({ topicArn: TOPIC_ARN })]);
  });
});
