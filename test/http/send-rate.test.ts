// send_rate and send_rate_source in the 202, the job and the dry run; the fallback rate alerted; router.ready (issue 11 trap 1).
import { GetAccountCommand } from '@aws-sdk/client-sesv2';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

const apps: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  vi.restoreAllMocks();
});

function app(options: Parameters<typeof httpApp>[0], getAccount?: () => unknown) {
  const h = httpApp(options, (mock) => {
    if (getAccount) mock.on(GetAccountCommand).callsFake(async () => getAccount());
  });
  apps.push(h);
  return h;
}

describe('send_rate and send_rate_source', () => {
  it("a fixed sendRate: 'option' in the 202, the job and the dry run", async () => {
    const h = app({ sendRate: 40 });
    await h.router.ready;
    const accepted = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(2)).expect(202);
    expect(accepted.body.data).toMatchObject({ send_rate: 40, send_rate_source: 'option' });
    const job = await request(h.app).get(`/bulk-email/${accepted.body.data.id}`).set('x-user', 'a').expect(200);
    expect(job.body.data).toMatchObject({ send_rate: 40, send_rate_source: 'option' });
    const dry = await request(h.app).post('/bulk-email?dry_run=true').set('x-user', 'a').send(bulkBody(2)).expect(200);
    expect(dry.body.data).toMatchObject({ send_rate: 40, send_rate_source: 'option' });
  });

  it("'account': GetAccount's MaxSendRate once router.ready settles", async () => {
    const h = app({ sendRate: 'account' }, () => ({
      SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 0 },
    }));
    await h.router.ready;
    const accepted = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(2)).expect(202);
    expect(accepted.body.data).toMatchObject({ send_rate: 14, send_rate_source: 'account' });
  });

  it("GetAccount fails and no logger was given: 'fallback' at 1/s, and a console warning (once a minute at most)", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const h = app({ sendRate: 'account' }, () => {
      throw Object.assign(new Error('User is not authorized to perform: ses:GetAccount'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      });
    });
    await h.router.ready;
    const accepted = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(500)).expect(202);
    expect(accepted.body.data).toMatchObject({ send_rate: 1, send_rate_source: 'fallback' });
    const dry = await request(h.app).post('/bulk-email?dry_run=true').set('x-user', 'a').send(bulkBody(2)).expect(200);
    expect(dry.body.data.send_rate_source).toBe('fallback');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/fallback rate of 1\/s.*sendRate/);
  });

  it('… and with a logger, the warning goes to the logger instead', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const h = app({ sendRate: 'account', logger }, () => {
      throw new Error('nope');
    });
    await h.router.ready;
    expect(warn).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ code: 'EBE_ACCOUNT_RATE' }),
      expect.stringMatching(/fallback/),
    );
  });
});

describe('full calls (issue 11)', () => {
  it('the dry run plans ⌈N/50⌉ calls at 14/s, and maxRecipientsPerCall caps them', async () => {
    const h = app({ sendRate: 14 });
    const dry = await request(h.app)
      .post('/bulk-email?dry_run=true')
      .set('x-user', 'a')
      .send(bulkBody(120))
      .expect(200);
    expect(dry.body.data.calls.map((c: { recipients: number }) => c.recipients)).toEqual([50, 50, 20]);
    const capped = app({ sendRate: 14, maxRecipientsPerCall: 14 });
    const plan = await request(capped.app)
      .post('/bulk-email?dry_run=true')
      .set('x-user', 'a')
      .send(bulkBody(30))
      .expect(200);
    expect(plan.body.data.calls.map((c: { recipients: number }) => c.recipients)).toEqual([14, 14, 2]);
  });

  it('refuses a maxRecipientsPerCall that is not a positive whole number at build time', () => {
    expect(() => httpApp({ maxRecipientsPerCall: 0 })).toThrow(/maxRecipientsPerCall/);
    expect(() => httpApp({ maxRecipientsPerCall: 2.5 })).toThrow(TypeError);
  });
});
