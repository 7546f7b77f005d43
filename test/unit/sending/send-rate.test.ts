// Unit tests: the send-rate source — a fixed rate, or GetAccount's MaxSendRate refreshed, with a logged fallback.
import { describe, expect, it, vi } from 'vitest';
import { createSendRate, remainingQuota } from '../../../src/sending/send-rate.js';
import type { Logger } from '../../../src/types.js';
import { fakeSes } from '../../helpers/fake-ses.js';

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
}
const limiter = () => ({ setRate: vi.fn() });

describe('createSendRate', () => {
  it('a number: sets it once, no GetAccount, quota unknown', async () => {
    const ses = fakeSes();
    const lim = limiter();
    const rate = createSendRate({ ses: ses.client, sendRate: 25, limiter: lim });
    await rate.ready;
    expect(rate.rate()).toBe(25);
    expect(lim.setRate).toHaveBeenCalledWith(25);
    expect(rate.remaining24h()).toBeNull();
    expect(ses.accountCalls).toBe(0);
    rate.close();
  });

  it("'account': uses SendQuota.MaxSendRate and the remaining 24-hour quota", async () => {
    const ses = fakeSes(undefined, () => ({
      SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 1234 },
    }));
    const lim = limiter();
    const rate = createSendRate({ ses: ses.client, sendRate: 'account', limiter: lim });
    await rate.ready;
    expect(rate.rate()).toBe(14);
    expect(lim.setRate).toHaveBeenLastCalledWith(14);
    expect(rate.remaining24h()).toBe(48_766);
    rate.close();
  });

  it("'account' re-reads every intervalMs and follows a changed rate; close() stops it", async () => {
    let max = 10;
    const ses = fakeSes(undefined, () => ({ SendQuota: { MaxSendRate: max, Max24HourSend: -1, SentLast24Hours: 0 } }));
    const lim = limiter();
    const rate = createSendRate({ ses: ses.client, sendRate: 'account', limiter: lim, intervalMs: 20 });
    await rate.ready;
    expect(rate.remaining24h()).toBe(-1);
    max = 30;
    await vi.waitFor(() => expect(rate.rate()).toBe(30));
    expect(lim.setRate).toHaveBeenLastCalledWith(30);
    rate.close();
    const calls = ses.accountCalls;
    await new Promise((r) => setTimeout(r, 80));
    expect(ses.accountCalls).toBe(calls);
  });

  it('falls back to 1/s with warning EBE_ACCOUNT_RATE when GetAccount fails, logged once per run of failures', async () => {
    const ses = fakeSes(); // no account: GetAccount throws BadRequestException
    const lim = limiter();
    const log = logger();
    const rate = createSendRate({ ses: ses.client, sendRate: 'account', limiter: lim, logger: log });
    await rate.ready;
    expect(rate.rate()).toBe(1);
    expect(lim.setRate).toHaveBeenLastCalledWith(1);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0][0]).toMatchObject({ code: 'EBE_ACCOUNT_RATE' });
    await rate.refresh();
    expect(log.warn).toHaveBeenCalledTimes(1);
    rate.close();
  });

  it('keeps the last good rate when a later read fails, and treats MaxSendRate ≤ 0 as a failure', async () => {
    let answer: number | 'fail' = 40;
    const ses = fakeSes(undefined, () => {
      if (answer === 'fail') throw new Error('network down');
      return { SendQuota: { MaxSendRate: answer, Max24HourSend: 100, SentLast24Hours: 0 } };
    });
    const log = logger();
    const rate = createSendRate({ ses: ses.client, sendRate: 'account', limiter: limiter(), logger: log });
    await rate.ready;
    answer = 'fail';
    await rate.refresh();
    expect(rate.rate()).toBe(40);
    answer = 0;
    await rate.refresh();
    expect(rate.rate()).toBe(40);
    expect(log.warn).toHaveBeenCalledTimes(1);
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
