// The dashboard in Debian's Chromium (playwright-core) against the running examples/dashboard app — the real router
// over the SES emulator, signed in with the app's own session cookie: a job's progress bar advances to done over the
// SSE stream, results are filtered, a scheduled job is canceled with its button. (The router refuses any address that
// is not plain, so attacker-controlled text is driven through test/browser/dashboard.test.ts's API instead.)
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../examples/dashboard/app.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT = fileURLToPath(new URL('../../test-results/', import.meta.url));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

if (!HAVE_CHROMIUM) {
  const reason = `Chromium not found at ${CHROMIUM}: run test/browser/ensure-chromium.sh (or set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(reason);
  console.log(`Skipping the dashboard example browser suite: ${reason}`);
}

const LIVE_ENTRIES = 100;

describe.skipIf(!HAVE_CHROMIUM)('examples/dashboard in Chromium', () => {
  let ses: SesEmulator;
  let example: ReturnType<typeof createApp>;
  let server: http.Server;
  let base: string;
  let cookie: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const ids: Record<'scheduled' | 'live', string> = { scheduled: '', live: '' };
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}/bulk-email${path}`, {
      ...init,
      headers: { cookie, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
  };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    ses = await startSesEmulator();
    example = createApp({ ses: ses.client(), sendRate: 20, sessionSecret: 'browser-test-secret' });
    server = http.createServer(example.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cookie = example.cookieFor('alice');

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await api(`?send_at=${encodeURIComponent(later)}`, {
      method: 'POST',
      body: JSON.stringify(bulkBody(5)),
    });
    expect(scheduled.body.data.status).toBe('scheduled');
    ids.scheduled = String(scheduled.body.data.id);

    profile = mkdtempSync(join(tmpdir(), 'ebe-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1100, height: 800 },
    });
    const [name, value] = cookie.split('=');
    await context.addCookies([{ name, value, url: base }]);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    server?.closeAllConnections();
    server?.close();
    await example?.close();
    await ses?.close();
  });

  it('needs the session: without the cookie the page is 401', async () => {
    expect((await fetch(`${base}/bulk-email/dashboard`)).status).toBe(401);
    const response = await page.goto(`${base}/bulk-email/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self'/);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(1);
  });

  it('follows a sending job over the SSE stream until its progress bar is full and it is done', async () => {
    const live = await api('', {
      method: 'POST',
      body: JSON.stringify(bulkBody(LIVE_ENTRIES, { domain: 'live.test' })),
    });
    expect(live.status).toBe(202);
    ids.live = String(live.body.data.id);
    await page.goto(`${base}/bulk-email/dashboard#/jobs/${ids.live}`);
    await page.waitForSelector('main progress');
    const values = new Set<string>();
    await expect
      .poll(
        async () => {
          const value = (await page.locator('main progress').first().getAttribute('value')) ?? '';
          values.add(value);
          return value;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(String(LIVE_ENTRIES));
    // It advanced: a part-way value was shown before the full bar (SES calls of 50 at 20/s: 50, then 100).
    expect([...values].some((v) => Number(v) > 0 && Number(v) < LIVE_ENTRIES)).toBe(true);
    await expect.poll(() => page.locator('.job-head .badge').textContent(), { timeout: 10_000 }).toBe('completed');
    expect(await page.locator('[data-progress]').textContent()).toBe(`${LIVE_ENTRIES} of ${LIVE_ENTRIES} entries done`);
    expect((await ses.emails()).filter((e) => e.destination.to[0]?.endsWith('@live.test'))).toHaveLength(LIVE_ENTRIES);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-example-job-done.png'), fullPage: true });
  });

  it('filters the results by status', async () => {
    await expect.poll(() => page.locator('#results tbody tr').count()).toBeGreaterThan(0);
    await page.selectOption('select[aria-label="Result status"]', { label: 'Failed' });
    await expect.poll(() => page.url()).toContain('status=');
    await expect.poll(() => page.locator('#results tbody tr td[data-label="Status"]').count()).toBe(0);
    await page.selectOption('select[aria-label="Result status"]', { label: 'Sent' });
    await expect.poll(() => page.locator('#results tbody tr td[data-label="Status"]').count()).toBeGreaterThan(0);
    const statuses = await page.locator('#results tbody tr td[data-label="Status"]').allTextContents();
    expect(new Set(statuses)).toEqual(new Set(['SUCCESS']));
    await page.screenshot({ path: join(OUTPUT, 'dashboard-example-filtered.png'), fullPage: true });
  });

  it('cancels the scheduled job with its cancel button', async () => {
    await page.goto(`${base}/bulk-email/dashboard#/jobs/${ids.scheduled}`);
    await page.click('button:has-text("Cancel job")');
    await page.click('button:has-text("Confirm cancel")');
    await expect.poll(() => page.locator('.job-head .badge').textContent()).toBe('canceled');
    const job = await api(`/${ids.scheduled}`);
    expect(job.body.data.status).toBe('canceled');
    expect((job.body.data.counts as Record<string, number>).canceled).toBe(5);
  });

  it('is readable on a phone, and ran with no script error and no dialog', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/bulk-email/dashboard`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-example-phone.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
