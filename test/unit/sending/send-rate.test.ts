// Unit tests: the send-rate source — a fixed rate, or GetAccount re-read — its source, the fallback alert, the quota.
import { describe, expect, it, vi } from 'vitest';
import { createSendRate, remainingQuota, type SendRateOptions } from '../../../src/sending/send-rate.js';
import type { Logger } from '../../../src/types.js';
import { fakeSes } from '../../helpers/fake-ses.js';

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
}
const sink = () => ({ setRate: vi.fn(), setQuota: vi.fn(async () => {}) });

function make(options: Partial<SendRateOptions> & Pick<SendRateOptions, 'ses' | 'sendRate'>) {
  const log = logger();
  const alert = vi.fn();
  let now = 1_000_000;
  const clock = { now: () => now };
  const rate = createSendRate({ logger: log, alert, clock, ...options });
  return { rate, log, alert, advance: (ms: number) => (now += ms) };
}

describe('createSendRate', () => {
  it("a number: source 'option', set once, no GetAccount, quota unknown", async () => {
    const ses = fakeSes();
    const s = sink();
    const { rate } = make({ ses: ses.client, sendRate: 25, sink: s });
    await rate.ready;
    expect(rate.rate()).toBe(25);
    expect(rate.source()).toBe('option');
    expect(s.setRate).toHaveBeenCalledWith(25);
    expect(s.setQuota).not.toHaveBeenCalled();
    expect(rate.remaining24h()).toBeNull();
    expect(rate.quotaSpent()).toBe(15 * 60_000);
    expect(ses.accountCalls).toBe(0);
    rate.close();
  });

  it("'account': MaxSendRate and the remaining 24-hour quota, both given to the queue", async () => {
    const ses = fakeSes(undefined, () => ({
      SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 1234 },
    }));
    const s = sink();
    const { rate, alert } = make({ ses: ses.client, sendRate: 'account', sink: s });
    await rate.ready;
    expect(rate.rate()).toBe(14);
    expect(rate.source()).toBe('account');
    expect(s.setRate).toHaveBeenLastCalledWith(14);
    expect(rate.remaining24h()).toBe(48_766);
    expect(s.setQuota).toHaveBeenLastCalledWith(48_766);
    expect(alert).not.toHaveBeenCalled();
    rate.close();
  });

  it('an unlimited quota (-1) reaches the queue as null', async () => {
    const ses = fakeSes(undefined, () => ({ SendQuota: { MaxSendRate: 5, Max24HourSend: -1, SentLast24Hours: 9 } }));
    const s = sink();
    const { rate } = make({ ses: ses.client, sendRate: 'account', sink: s });
    await rate.ready;
    expect(rate.remaining24h()).toBe(-1);
    expect(s.setQuota).toHaveBeenLastCalledWith(null);
    rate.close();
  });

  it('re-reads every intervalMs, sooner while the quota holds work back; close() stops it', async () => {
    let max = 10;
    let blocked = false;
    const ses = fakeSes(undefined, () => ({ SendQuota: { MaxSendRate: max, Max24HourSend: 100, SentLast24Hours: 0 } }));
    const s = sink();
    const { rate } = make({
      ses: ses.client,
      sendRate: 'account',
      sink: s,
      intervalMs: 60_000,
      blockedIntervalMs: 20,
      blocked: async () => blocked,
    });
    await rate.ready;
    max = 30;
    await new Promise((r) => setTimeout(r, 80));
    expect(rate.rate()).toBe(10); // not blocked: the next read is a minute away
    rate.close();
    blocked = true;
    const again = make({
      ses: ses.client,
      sendRate: 'account',
      sink: s,
      blockedIntervalMs: 20,
      blocked: async () => blocked,
    });
    await again.rate.ready;
    max = 40;
    await vi.waitFor(() => expect(again.rate.rate()).toBe(40));
    again.rate.close();
    const calls = ses.accountCalls;
    await new Promise((r) => setTimeout(r, 80));
    expect(ses.accountCalls).toBe(calls);
  });

  it("quotaSpent(): the queue's quota drops to 0 and GetAccount is read again soon", async () => {
    let sent = 0;
    const ses = fakeSes(undefined, () => ({
      SendQuota: { MaxSendRate: 10, Max24HourSend: 100, SentLast24Hours: sent },
    }));
    const s = sink();
    const { rate } = make({ ses: ses.client, sendRate: 'account', sink: s, blockedIntervalMs: 20 });
    await rate.ready;
    sent = 100;
    expect(rate.quotaSpent()).toBe(20);
    expect(s.setQuota).toHaveBeenLastCalledWith(0);
    expect(rate.remaining24h()).toBe(0);
    sent = 40;
    await vi.waitFor(() => expect(s.setQuota).toHaveBeenLastCalledWith(60));
    rate.close();
  });

  it("GetAccount fails: 1/s, source 'fallback', an alert at most once a minute (logger or console)", async () => {
    const ses = fakeSes(); // no account: GetAccount throws BadRequestException
    const s = sink();
    const { rate, alert, advance } = make({ ses: ses.client, sendRate: 'account', sink: s });
    await rate.ready;
    expect(rate.rate()).toBe(1);
    expect(rate.source()).toBe('fallback');
    expect(s.setRate).toHaveBeenLastCalledWith(1);
    expect(alert).toHaveBeenCalledTimes(1);
    expect(alert.mock.calls[0][0]).toMatchObject({ code: 'EBE_ACCOUNT_RATE' });
    expect(alert.mock.calls[0][1]).toMatch(/fallback rate of 1\/s/);
    await rate.refresh();
    expect(alert).toHaveBeenCalledTimes(1);
    advance(60_000);
    await rate.refresh();
    expect(alert).toHaveBeenCalledTimes(2);
    expect(rate.quotaSpent()).toBe(15 * 60_000); // a quota never read is not held at 0
    expect(s.setQuota).not.toHaveBeenCalled();
    rate.close();
  });

  it('keeps the last good rate when a later read fails, and treats MaxSendRate ≤ 0 as a failure', async () => {
    let answer: number | 'fail' = 40;
    const ses = fakeSes(undefined, () => {
      if (answer === 'fail') throw new Error('network down');
      return { SendQuota: { MaxSendRate: answer, Max24HourSend: 100, SentLast24Hours: 0 } };
    });
    const { rate, log, alert } = make({ ses: ses.client, sendRate: 'account', sink: sink() });
    await rate.ready;
    answer = 'fail';
    await rate.refresh();
    expect(rate.rate()).toBe(40);
    expect(rate.source()).toBe('account');
    answer = 0;
    await rate.refresh();
    expect(rate.rate()).toBe(40);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(alert).not.toHaveBeenCalled();
    answer = 50;
    await rate.refresh();
    expect(rate.rate()).toBe(50);
    rate.close();
  });
});

describe('remainingQuota', () => {
  it('is Max24HourSend − SentLast24Hours, -1 when unlimited, null when unknown', () => {
    expect(remainingQuota(200, 50)).toBe(150);
    expect(remainingQuota(200, 250)).toBe(0);
    expect(remainingQuota(-1, 5)).toBe(-1);
    expect(remainingQuota(undefined, 5)).toBeNull();
  });
});
