// snsReceiver(): what POST /events/sns does with one SNS message — verify, dedupe, then ingest, confirm or note it.
import { isBulkEmailError } from '../errors.js';
import { parseJson } from '../http/body.js';
import { silentLogger } from '../logger.js';
import { systemClock } from '../sending/clock.js';
import type { Clock, Logger } from '../types.js';
import { boundedGet } from './bounded-get.js';
import { type SeenMessages, memorySeenMessages } from './seen-messages.js';
import type { SnsMessageType } from './sns-message.js';
import { snsVerifier } from './sns-verify.js';

export interface SnsReceiverOptions {
  /** The SNS topics whose messages are accepted and whose subscriptions are confirmed. */
  topicArns: readonly string[];
  /** Replaces the HTTPS download of signing certificates: resolves with the PEM text. */
  fetchCertificate?: (url: string) => Promise<string>;
  /** Replaces the HTTPS GET of a listed topic's `SubscribeURL`; should reject when it did not confirm. */
  confirmSubscription?: (subscribeUrl: string) => Promise<void>;
  /** Takes one SES event object (the notification's `Message`, parsed). A rejection makes the route answer 5xx. */
  ingest: (sesEvent: unknown) => unknown;
  /** Where SNS MessageIds are remembered (default: in this process). Share one across web instances. */
  seen?: SeenMessages;
  logger?: Logger;
  clock?: Clock;
  /** Delays between attempts to confirm a subscription (default 2 s, then 10 s: three attempts). */
  confirmRetryDelaysMs?: readonly number[];
}

/** What the route answers for a message it accepted. */
export interface SnsReceipt {
  type: SnsMessageType;
  messageId: string;
  /** This MessageId was seen before: acknowledged, nothing done. */
  duplicate: boolean;
}

export interface SnsReceiver {
  /**
   * One SNS message: the raw body (text or bytes, parsed here; not JSON → 400 `INVALID_JSON`) or the parsed object.
   * Forged, unsigned, stale or unlisted → 403 `INVALID_SIGNATURE`, and nothing is ingested or confirmed.
   */
  receive(body: string | Buffer | object): Promise<SnsReceipt>;
  /** Waits for subscription confirmations still under way (cutting their retry waits short). */
  close(): Promise<void>;
}

const SUBSCRIBE_GET = { timeoutMs: 10_000, maxBytes: 64 * 1024 };

export function snsReceiver(options: SnsReceiverOptions): SnsReceiver {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock();
  const seen = options.seen ?? memorySeenMessages({ now: () => clock.now() });
  const verifier = snsVerifier({
    topicArns: options.topicArns,
    fetchCertificate: options.fetchCertificate,
    now: () => clock.now(),
  });
  const confirm =
    options.confirmSubscription ??
    (async (url: string) => {
      await boundedGet(url, SUBSCRIBE_GET);
    });
  const retryDelays = options.confirmRetryDelaysMs ?? [2000, 10_000];
  const closing = new AbortController();
  const confirming = new Set<Promise<void>>();

  async function confirmInBackground(topicArn: string, url: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await confirm(url);
        logger.info({ topicArn }, 'express-bulk-email: SNS subscription confirmed');
        return;
      } catch (err) {
        const delay = retryDelays[attempt];
        if (delay === undefined || closing.signal.aborted) {
          logger.error(
            { topicArn, err: err instanceof Error ? err.message : String(err), attempts: attempt + 1 },
            'express-bulk-email: could not confirm the SNS subscription; confirm it in the SNS console or request a new confirmation',
          );
          return;
        }
        await clock.sleep(delay, closing.signal);
      }
    }
  }

  async function ingestNotification(message: string, messageId: string): Promise<void> {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      // SES publishes one plain-text test message when an event destination is created; nothing to record.
      logger.info({ messageId }, 'express-bulk-email: SNS notification whose Message is not JSON, ignored');
      return;
    }
    await options.ingest(event);
  }

  return {
    async receive(body) {
      const parsed = typeof body === 'string' || Buffer.isBuffer(body) ? parseJson(Buffer.from(body)) : body;
      let verified: Awaited<ReturnType<typeof verifier.verify>>;
      try {
        verified = await verifier.verify(parsed);
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        const topicArn = (parsed as { TopicArn?: unknown } | null)?.TopicArn;
        logger.warn(
          {
            // whatever the sender wrote, bounded: refused messages are not trusted to be short
            topicArn: typeof topicArn === 'string' ? topicArn.slice(0, 256) : undefined,
            refusal: cause instanceof Error ? cause.message : cause,
          },
          isBulkEmailError(err) && err.code === 'INVALID_SIGNATURE'
            ? 'express-bulk-email: SNS message refused'
            : 'express-bulk-email: SNS message could not be verified now; SNS will retry it',
        );
        throw err;
      }
      const { message } = verified;
      const receipt: SnsReceipt = { type: message.Type, messageId: message.MessageId, duplicate: false };
      if (await seen.seen(message.MessageId, verifier.replayWindowMs)) return { ...receipt, duplicate: true };

      if (message.Type === 'Notification') {
        try {
          await ingestNotification(message.Message, message.MessageId);
        } catch (err) {
          // Not recorded: let SNS's retry (it retries a 5xx) be processed.
          await seen.forget(message.MessageId).catch(() => undefined);
          throw err;
        }
      } else if (message.Type === 'SubscriptionConfirmation') {
        const task = confirmInBackground(message.TopicArn, message.SubscribeURL as string);
        confirming.add(task);
        task.finally(() => confirming.delete(task));
      } else {
        // Someone deleted this endpoint's subscription. Re-subscribing on our own would undo an operator's decision.
        logger.warn(
          { topicArn: message.TopicArn },
          'express-bulk-email: the SNS subscription was removed; no more events arrive from this topic until it is subscribed again',
        );
      }
      return receipt;
    },
    async close() {
      closing.abort();
      await Promise.all([...confirming]);
    },
  };
}
