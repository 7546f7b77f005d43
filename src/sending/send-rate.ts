// createSendRate(): the rate the limiter uses — a fixed number, or the account's MaxSendRate re-read every 60 s.
import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { silentLogger } from '../logger.js';
import type { Logger, RateLimiter } from '../types.js';

export interface SendRateOptions {
  ses: SESv2Client;
  sendRate: number | 'account';
  limiter: Pick<RateLimiter, 'setRate'>;
  logger?: Logger;
  /** How often 'account' re-reads GetAccount. Default 60,000 ms. */
  intervalMs?: number;
  /** Recipients per second used while GetAccount has never answered. Default 1 (the sandbox rate). */
  fallbackRate?: number;
}

export interface SendRate {
  /** Resolves after the first GetAccount attempt (at once for a fixed rate). Never rejects. */
  readonly ready: Promise<void>;
  /** Recipients per second set on the limiter now. */
  rate(): number;
  /** Max24HourSend − SentLast24Hours as of the last read; -1 = unlimited; null = unknown (fixed rate or never read). */
  remaining24h(): number | null;
  /** Reads GetAccount now ('account' only). */
  refresh(): Promise<void>;
  /** Stops the periodic refresh. */
  close(): void;
}

/** Quota numbers from GetAccount.SendQuota → remaining sends in the rolling 24 h (-1 = unlimited). */
export function remainingQuota(max24HourSend: number | undefined, sentLast24Hours: number | undefined): number | null {
  if (typeof max24HourSend !== 'number' || !Number.isFinite(max24HourSend)) return null;
  if (max24HourSend < 0) return -1;
  return Math.max(0, Math.floor(max24HourSend - (sentLast24Hours ?? 0)));
}

/**
 * 'account': GetAccount at start and every `intervalMs` (an unref'd timer). A failed read logs warning
 * EBE_ACCOUNT_RATE (once per run of failures) and keeps the last good rate, or `fallbackRate` if there never was one.
 */
export function createSendRate(options: SendRateOptions): SendRate {
  const { ses, limiter, sendRate } = options;
  const logger = options.logger ?? silentLogger;
  if (typeof sendRate === 'number') {
    limiter.setRate(sendRate);
    return {
      ready: Promise.resolve(),
      rate: () => sendRate,
      remaining24h: () => null,
      refresh: async () => {},
      close() {},
    };
  }
  const fallbackRate = options.fallbackRate ?? 1;
  let rate = fallbackRate;
  let remaining: number | null = null;
  let failing = false;
  let closed = false;

  async function refresh(): Promise<void> {
    try {
      const out = await ses.send(new GetAccountCommand({}));
      const max = out.SendQuota?.MaxSendRate;
      if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
        throw new Error(`GetAccount returned no usable SendQuota.MaxSendRate (${String(max)})`);
      }
      rate = max;
      remaining = remainingQuota(out.SendQuota?.Max24HourSend, out.SendQuota?.SentLast24Hours);
      if (failing)
        logger.info({ code: 'EBE_ACCOUNT_RATE', rate }, 'express-bulk-email: read the account send rate again');
      failing = false;
    } catch (err) {
      if (!failing) {
        logger.warn(
          { code: 'EBE_ACCOUNT_RATE', err: err instanceof Error ? `${err.name}: ${err.message}` : String(err), rate },
          `express-bulk-email: could not read the account send rate (GetAccount); using ${rate}/s`,
        );
      }
      failing = true;
    }
    if (!closed) limiter.setRate(rate);
  }

  limiter.setRate(rate);
  const ready = refresh();
  const timer = setInterval(() => void refresh(), options.intervalMs ?? 60_000);
  timer.unref();
  return {
    ready,
    rate: () => rate,
    remaining24h: () => remaining,
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
