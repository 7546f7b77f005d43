// createSendRate(): the send rate and 24-hour quota — a fixed number, or GetAccount re-read — given to the queue.
import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Clock, Logger, Queue, SendRateSource } from '../types.js';

export interface SendRateOptions {
  ses: SESv2Client;
  sendRate: number | 'account';
  /** Where the rate and the remaining quota go (the queue); a web-only process gives none. */
  sink?: Pick<Queue, 'setRate' | 'setQuota'>;
  logger: Logger;
  /** A warning someone must see: the app's logger, or the console when the app gave none. */
  alert: (obj: object, msg: string) => void;
  clock: Pick<Clock, 'now'>;
  /** Whether the quota holds work back now (the queue has more waiting than the quota allows). */
  blocked?: () => Promise<boolean>;
  /** How often 'account' re-reads GetAccount. Default 60,000 ms. */
  intervalMs?: number;
  /** … while the quota holds work back, or after SES said it is spent. Default 10,000 ms. */
  blockedIntervalMs?: number;
  /** Recipients per second used while GetAccount has never answered. Default 1 (the sandbox rate). */
  fallbackRate?: number;
}

export interface SendRate {
  /** Resolves once the rate is known: after the first GetAccount attempt (at once for a fixed rate). Never rejects. */
  readonly ready: Promise<void>;
  /** Recipients per second in force now. */
  rate(): number;
  source(): SendRateSource;
  /** Max24HourSend − SentLast24Hours as of the last read; -1 = unlimited; null = unknown (fixed rate or never read). */
  remaining24h(): number | null;
  /** Reads GetAccount now ('account' only). */
  refresh(): Promise<void>;
  /** SES said the 24-hour quota is spent: hold work and re-read soon. Returns how long held entries should wait (ms). */
  quotaSpent(): number;
  /** Stops the periodic refresh. */
  close(): void;
}

/** A quota spent while GetAccount is not read (fixed rate, or it fails): held entries try again after this long. */
const FIXED_RATE_QUOTA_HOLD_MS = 15 * 60_000;
const ALERT_EVERY_MS = 60_000;

/** Quota numbers from GetAccount.SendQuota → remaining sends in the rolling 24 h (-1 = unlimited). */
export function remainingQuota(max24HourSend: number | undefined, sentLast24Hours: number | undefined): number | null {
  if (typeof max24HourSend !== 'number' || !Number.isFinite(max24HourSend)) return null;
  if (max24HourSend < 0) return -1;
  return Math.max(0, Math.floor(max24HourSend - (sentLast24Hours ?? 0)));
}

const forQueue = (remaining: number | null) => (remaining === null || remaining < 0 ? null : remaining);

/**
 * 'account': GetAccount at start, then every `intervalMs` (sooner while the quota holds work back), on an unref'd
 * timer. Until it first answers, the rate is `fallbackRate` (source 'fallback'), alerted at most once a minute even
 * without a logger; a later failure keeps the last good rate and logs EBE_ACCOUNT_RATE once per run of failures.
 */
export function createSendRate(options: SendRateOptions): SendRate {
  const { ses, sink, sendRate, logger, clock } = options;
  if (typeof sendRate === 'number') {
    sink?.setRate(sendRate);
    return {
      ready: Promise.resolve(),
      rate: () => sendRate,
      source: () => 'option',
      remaining24h: () => null,
      refresh: async () => {},
      quotaSpent: () => FIXED_RATE_QUOTA_HOLD_MS,
      close() {},
    };
  }
  const intervalMs = options.intervalMs ?? 60_000;
  const blockedIntervalMs = options.blockedIntervalMs ?? 10_000;
  let rate = options.fallbackRate ?? 1;
  let source: SendRateSource = 'fallback';
  let remaining: number | null = null;
  let failing = false;
  let lastAlert = Number.NEGATIVE_INFINITY;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Number.POSITIVE_INFINITY;

  function schedule(ms: number): void {
    if (closed || clock.now() + ms >= dueAt) return;
    clearTimeout(timer);
    dueAt = clock.now() + ms;
    timer = setTimeout(() => {
      dueAt = Number.POSITIVE_INFINITY;
      void refresh().then(next);
    }, ms);
    timer.unref();
  }

  async function next(): Promise<void> {
    const held = remaining !== null && options.blocked ? await options.blocked().catch(() => false) : false;
    schedule(held ? blockedIntervalMs : intervalMs);
  }

  async function refresh(): Promise<void> {
    try {
      const out = await ses.send(new GetAccountCommand({}));
      const max = out.SendQuota?.MaxSendRate;
      if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
        throw new Error(`GetAccount returned no usable SendQuota.MaxSendRate (${String(max)})`);
      }
      rate = max;
      source = 'account';
      remaining = remainingQuota(out.SendQuota?.Max24HourSend, out.SendQuota?.SentLast24Hours);
      if (failing)
        logger.info({ code: 'EBE_ACCOUNT_RATE', rate }, 'express-bulk-email: read the account send rate again');
      failing = false;
      if (!closed) await sink?.setQuota(forQueue(remaining));
    } catch (err) {
      const detail = {
        code: 'EBE_ACCOUNT_RATE',
        err: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        rate,
      };
      if (source === 'fallback') {
        if (clock.now() - lastAlert >= ALERT_EVERY_MS) {
          lastAlert = clock.now();
          options.alert(
            detail,
            `express-bulk-email: could not read the account send rate (GetAccount needs ses:GetAccount); sending at the fallback rate of ${rate}/s. Set sendRate to your account's rate to silence this.`,
          );
        }
      } else if (!failing) {
        logger.warn(detail, `express-bulk-email: could not read the account send rate (GetAccount); keeping ${rate}/s`);
      }
      failing = true;
    }
    if (!closed) sink?.setRate(rate);
  }

  sink?.setRate(rate);
  const ready = refresh().then(next);
  return {
    ready,
    rate: () => rate,
    source: () => source,
    remaining24h: () => remaining,
    refresh,
    quotaSpent() {
      // Only a quota read from the account can be re-read and freed; otherwise held entries just wait.
      if (source !== 'account' || remaining === null) return FIXED_RATE_QUOTA_HOLD_MS;
      remaining = 0;
      void sink?.setQuota(0);
      schedule(blockedIntervalMs);
      return blockedIntervalMs;
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
