// The dashboard in Debian's Chromium (driven by playwright-core) against a fake API: live progress, filters, cancel, XSS.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, type FakeJob, type FakeResult, SESSION_COOKIE, startFakeApi } from './fake-api.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT = fileURLToPath(new URL('../../test-results/', import.meta.url));
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!HAVE_CHROMIUM) {
  const reason = `Chromium not found at ${CHROMIUM}: run test/browser/ensure-chromium.sh (or set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(reason); // CI installs it; a missing browser there is a failure, not a skip
  console.log(`Skipping the dashboard browser suite: ${reason}`);
}

const XSS_ADDRESS = '<img src=x onerror="window.__xss=1;alert(1)">@example.com';
const XSS_TEMPLATE = 'No template named "<b onmouseover=alert(2)>Welcome</b><script>window.__xss=2</script>"';

function job(id: string, minutesAgo: number, over: Partial<FakeJob>): FakeJob {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return {
    id,
    created_at: at,
    updated_at: at,
    status: 'sending',
    entries: 40,
    recipients: 40,
    counts: { sent: 0, failed: 0, pending: 40, canceled: 0, suppressed: 0, unknown: 0 },
    ...over,
  };
}

function results(n: number, status: (i: number) => string): FakeResult[] {
  return Array.from({ length: n }, (_, index) => ({
    index,
    status: status(index),
    attempts: 1,
    recipients: [`user${index}@example.com`],
    ...(status(index) === 'SUCCESS' ? { message_id: `msg-${index}` } : {}),
    ...(status(index) === 'MESSAGE_REJECTED'
      ? { error: { code: 'MESSAGE_REJECTED', message: 'Email address is not verified.' } }
      : {}),
  }));
}

describe.skipIf(!HAVE_CHROMIUM)('dashboard in Chromium', () => {
  let api: FakeApi;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const failedResponses: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    api = await startFakeApi([
      {
        job: job('job_live', 3, {
          send_rate: 14,
          estimated_completion_at: new Date(Date.now() + 90 * 60_000).toISOString(),
        }),
        results: results(40, (i) => (i % 10 === 3 ? 'MESSAGE_REJECTED' : 'SUCCESS')),
      },
      {
        job: job('job_xss', 10, {
          status: 'failed',
          counts: {
            sent: 1,
            failed: 1,
            pending: 0,
            canceled: 0,
            suppressed: 0,
            unknown: 0,
            delivered: 1,
            bounced: 0,
            complained: 0,
          },
          entries: 2,
          recipients: 2,
          error: { code: 'TEMPLATE_NOT_FOUND', message: XSS_TEMPLATE },
          completed_at: new Date().toISOString(),
        }),
        results: [
          {
            index: 0,
            status: 'SUCCESS',
            attempts: 1,
            recipients: [XSS_ADDRESS],
            message_id: '<b>m</b>',
            delivery: { status: 'DELIVERED', at: new Date().toISOString() },
          },
          {
            index: 1,
            status: 'TEMPLATE_NOT_FOUND',
            attempts: 1,
            recipients: ['ok@example.com'],
            error: { code: 'TEMPLATE_NOT_FOUND', message: XSS_TEMPLATE },
          },
        ],
      },
      { job: job('job_cancel', 20, { status: 'queued' }), results: results(40, () => 'PENDING') },
    ]);
    profile = mkdtempSync(join(tmpdir(), 'ebe-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1100, height: 800 },
    });
    await context.addCookies([{ name: 'session', value: 'signed-in', url: api.url }]);
    expect(SESSION_COOKIE).toBe('session=signed-in');
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('response', (res) => {
      if (res.status() >= 400) failedResponses.push(`${res.status()} ${new URL(res.url()).pathname}`);
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await api?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('lists the jobs with progress bars, behind the app’s own auth', async () => {
    const anonymous = await fetch(`${api.url}/dashboard`);
    expect(anonymous.status).toBe(401);
    const response = await page.goto(`${api.url}/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(3);
    const rows = await page.locator('tr[data-job]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')));
    expect(rows).toEqual(['job_live', 'job_xss', 'job_cancel']); // newest first, as the API gave them
    expect(await page.locator('tr[data-job="job_live"] progress').getAttribute('max')).toBe('40');
    expect(await page.locator('tr[data-job="job_live"] td[data-label="ETA"]').textContent()).toMatch(
      /\(in 1 h (29|30) min\)$/,
    );
    expect(await page.locator('tr[data-job="job_xss"] td[data-label="Delivery"]').textContent()).toBe(
      '1 delivered · 0 bounced · 0 complained',
    );
    await page.screenshot({ path: join(OUTPUT, 'dashboard-list.png'), fullPage: true });
  });

  it('follows a job live over SSE until its progress bar is full and it is done', async () => {
    await page.click('a[href="#/jobs/job_live"]');
    await page.waitForSelector('[data-progress]');
    await expect.poll(() => api.requests.filter((r) => r.startsWith('GET /job_live/events')).length).toBe(1);
    const readings: string[] = [];
    for (let sent = 4; sent <= 40; sent += 4) {
      api.update('job_live', (j) => {
        j.counts.sent = sent - Math.floor(sent / 10);
        j.counts.failed = Math.floor(sent / 10);
        j.counts.pending = 40 - sent;
        if (sent === 40) {
          j.status = 'completed';
          j.completed_at = new Date().toISOString();
        }
      });
      await page.waitForFunction(
        (n) => document.querySelector('main progress')?.getAttribute('value') === String(n),
        sent,
      );
      readings.push((await page.locator('[data-progress]').textContent()) ?? '');
    }
    expect(readings.at(-1)).toBe('40 of 40 entries done');
    await expect.poll(() => page.locator('.job-head .badge').textContent()).toBe('completed');
    expect(await page.locator('[data-count="failed"] dd').textContent()).toBe('4');
    // Live means the stream, not polling: the job itself was read once, when the view opened.
    expect(api.requests.filter((r) => r === 'GET /job_live').length).toBe(1);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-job-done.png'), fullPage: true });
  });

  it('filters the results by status', async () => {
    await expect.poll(() => page.locator('#results tbody tr').count()).toBe(40);
    await page.selectOption('select[aria-label="Result status"]', { label: 'Failed' });
    await expect.poll(() => page.locator('#results tbody tr').count()).toBe(4);
    const statuses = await page.locator('#results tbody tr td[data-label="Status"]').allTextContents();
    expect(new Set(statuses)).toEqual(new Set(['MESSAGE_REJECTED']));
    expect(api.requests.some((r) => r.startsWith('GET /job_live/results?') && r.includes('MESSAGE_REJECTED'))).toBe(
      true,
    );
    expect(page.url()).toContain('#/jobs/job_live?status=');
    await page.screenshot({ path: join(OUTPUT, 'dashboard-results-filtered.png'), fullPage: true });
  });

  it('cancels a job with the cancel button (two clicks) and shows it canceled', async () => {
    await page.goto(`${api.url}/dashboard#/jobs/job_cancel`);
    await page.click('button:has-text("Cancel job")');
    await page.click('button:has-text("Confirm cancel")');
    await expect.poll(() => api.requests.filter((r) => r === 'POST /job_cancel/cancel').length).toBe(1);
    await expect.poll(() => page.locator('.job-head .badge').textContent()).toBe('canceled');
    expect(await page.locator('button:has-text("Cancel job")').count()).toBe(0);
  });

  it('renders attacker-controlled addresses and template names as text (XSS)', async () => {
    await page.goto(`${api.url}/dashboard#/jobs/job_xss`);
    await page.getByText(XSS_ADDRESS).waitFor();
    expect(await page.getByText(XSS_ADDRESS).isVisible()).toBe(true);
    expect(await page.locator('[data-job-error]').textContent()).toBe(`TEMPLATE_NOT_FOUND: ${XSS_TEMPLATE}`);
    expect(await page.locator('#results td[data-label="Error"]').nth(1).textContent()).toBe(
      `TEMPLATE_NOT_FOUND: ${XSS_TEMPLATE}`,
    );
    expect(await page.locator('main img, main script, main b').count()).toBe(0);
    await page.hover('[data-job-error]');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    // The delivery breakdown shows when the job has delivery counts.
    expect(await page.locator('[data-count="delivered"] dd').textContent()).toBe('1');
    await page.screenshot({ path: join(OUTPUT, 'dashboard-xss-as-text.png'), fullPage: true });
  });

  it('is readable on a phone: no sideways scrolling, rows as labelled cards', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${api.url}/dashboard/`); // trailing slash: the page's relative asset paths still resolve
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(3);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('thead').first().isVisible()).toBe(false);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-phone.png'), fullPage: true });
  });

  it('ran with no script error, no CSP violation and no dialog', () => {
    expect(pageErrors).toEqual([]);
    expect(failedResponses).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
