// dashboard: true mounts GET /dashboard and its assets in the router, behind authenticate (header or cookie).
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/dashboard/dashboard-handler.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

let h: HttpApp;
afterEach(async () => {
  await h.close();
});

describe('dashboard: true', () => {
  it('serves the page and its assets to an authenticated caller, with the CSP; none without credentials', async () => {
    h = httpApp({ dashboard: true });
    const page = await request(h.app).get('/bulk-email/dashboard').set('x-user', 'a').expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.text).toContain('src="dashboard/dashboard.js"');
    for (const [path, type] of [
      ['dashboard/dashboard.js', 'text/javascript; charset=utf-8'],
      ['dashboard/dashboard.css', 'text/css; charset=utf-8'],
      ['dashboard/icon.svg', 'image/svg+xml'],
    ]) {
      const res = await request(h.app).get(`/bulk-email/${path}`).set('x-user', 'a').expect(200);
      expect(res.headers['content-type']).toBe(type);
    }
    for (const path of ['dashboard', 'dashboard/dashboard.js']) {
      const refused = await request(h.app).get(`/bulk-email/${path}`).expect(401);
      expect(refused.body.error.code).toBe('UNAUTHORIZED');
      expect(refused.text).not.toContain('<html');
    }
    const post = await request(h.app).post('/bulk-email/dashboard').set('x-user', 'a').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('works with cookie authentication as well (the app decides how to authenticate)', async () => {
    h = httpApp({
      dashboard: true,
      authenticate: (req) => (/(?:^|;\s*)session=good(?:;|$)/.test(req.get('cookie') ?? '') ? { id: 'a' } : null),
    });
    await request(h.app).get('/bulk-email/dashboard').set('Cookie', 'session=good').expect(200);
    await request(h.app).get('/bulk-email/dashboard').set('Cookie', 'session=bad').expect(401);
  });

  it('without the option, /dashboard is not served (a job id that does not exist: 404)', async () => {
    h = httpApp();
    const res = await request(h.app).get('/bulk-email/dashboard').set('x-user', 'a').expect(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('refuses a dashboard option that is not a boolean', () => {
    expect(() => httpApp({ dashboard: 'yes' as never })).toThrow(/option "dashboard" must be true or false/);
    h = httpApp();
  });
});
