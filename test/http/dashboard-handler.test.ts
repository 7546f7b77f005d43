// The dashboard's page and assets as served: types, CSP and other headers, ETags, relative asset paths, no HTML sinks.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DASHBOARD_PATHS, dashboardHandlers } from '../../src/dashboard/dashboard-handler.js';

// Mounted outside /bulk-email: the response check covers the router's own document, and these handlers are not
// mounted in the router yet.
function app(mount = '/standalone') {
  const d = dashboardHandlers();
  const router = express.Router({ strict: false });
  router.get(DASHBOARD_PATHS.page, d.page);
  router.get(DASHBOARD_PATHS.script, d.script);
  router.get(DASHBOARD_PATHS.style, d.style);
  router.get(DASHBOARD_PATHS.icon, d.icon);
  const a = express();
  a.use(mount, router);
  return a;
}

describe('dashboardHandlers', () => {
  it('serves the page with a strict CSP, no framing, no sniffing, private caching', async () => {
    const res = await request(app()).get('/standalone/dashboard').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toMatch(/^default-src 'self';/);
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(DASHBOARD_CSP).toContain("require-trusted-types-for 'script'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('private, no-cache');
    expect(res.text).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/i); // nothing inline
    expect(res.text).not.toMatch(/https?:\/\//); // nothing external
  });

  it('links its assets relatively, right with and without a trailing slash, never echoing the mount path', async () => {
    const bare = await request(app('/:tenant/mail')).get('/%3Cscript%3E/mail/dashboard').expect(200);
    expect(bare.text).toContain('src="dashboard/dashboard.js"');
    expect(bare.text).toContain('href="dashboard/dashboard.css"');
    expect(bare.text).not.toMatch(/script%3E|<script>/i);
    const slash = await request(app()).get('/standalone/dashboard/').expect(200);
    expect(slash.text).toContain('src="dashboard.js"');
    expect(slash.text).toContain('href="icon.svg"');
  });

  it.each([
    [DASHBOARD_PATHS.script, 'text/javascript; charset=utf-8', 'import.meta.url'],
    [DASHBOARD_PATHS.style, 'text/css; charset=utf-8', 'prefers-color-scheme'],
    [DASHBOARD_PATHS.icon, 'image/svg+xml', '<svg'],
  ])('serves %s as %s', async (path, type, sample) => {
    const res = await request(app())
      .get(`/standalone${path}`)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => {
          text += c.toString();
        });
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(String(res.body)).toContain(sample);
  });

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const first = await request(app()).get('/standalone/dashboard/dashboard.js').expect(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    await request(app()).get('/standalone/dashboard/dashboard.js').set('If-None-Match', etag).expect(304);
    const head = await request(app()).head('/standalone/dashboard').expect(200);
    expect(head.text ?? '').toBe('');
  });

  it('the page script writes text only: no HTML sink, eval or inline style anywhere in it', async () => {
    const res = await request(app()).get('/standalone/dashboard/dashboard.js').expect(200);
    const script = res.text;
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
      "setAttribute('style'",
      'srcdoc',
    ]) {
      expect(script).not.toContain(sink);
    }
    expect(script).toContain('textContent');
  });
});
