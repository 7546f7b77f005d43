// The example apps, driven as importable apps through HTTP against the SES emulator.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp as apiKeyApp } from '../../examples/api-key-auth/app.js';
import { createApp as basicApp } from '../../examples/basic/app.js';
import { createApp as dashboardApp } from '../../examples/dashboard/app.js';
import { createApp as sesEventsApp } from '../../examples/ses-events/app.js';
import { postSampleEvents } from '../../examples/ses-events/sample-events.js';
import { createApp as folderApp } from '../../examples/templates-from-folder/app.js';
import { bulkBody } from '../helpers/bodies.js';
import { sesEmulatorForSuite } from '../helpers/ses-emulator.js';
import { CERT_URL, TOPIC_ARN, createTestAuthority } from '../helpers/sns-signer.js';

describe('examples', () => {
  const ses = sesEmulatorForSuite();

  it('basic: sends a bulk request end to end', async () => {
    const { app, close } = basicApp({ ses: ses.client(), sendRate: 200 });
    const res = await request(app).post('/bulk-email').set('Prefer', 'wait=20').send(bulkBody(60)).expect(200);
    await close();
    expect(res.body.data.counts.sent).toBe(60);
    expect(await ses.emails()).toHaveLength(60);
  });

  it('api-key-auth: keys are principals, senders are per tenant, jobs are private', async () => {
    const { app, close } = apiKeyApp({ ses: ses.client(), sendRate: 200 });
    try {
      await request(app).post('/bulk-email').send(bulkBody(1)).expect(401);
      await request(app).post('/bulk-email').set('Authorization', 'Bearer wrong').send(bulkBody(1)).expect(401);
      const acme = 'Bearer key-acme-123';
      const refused = await request(app).post('/bulk-email').set('Authorization', acme).send(bulkBody(1)).expect(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
      const ok = await request(app)
        .post('/bulk-email')
        .set('Authorization', acme)
        .set('Prefer', 'wait=20')
        .send(bulkBody(3, { from: 'news@acme.test' }))
        .expect(200);
      expect(ok.body.data.counts.sent).toBe(3);
      await request(app)
        .get(`/bulk-email/${ok.body.data.id}`)
        .set('Authorization', 'Bearer key-globex-456')
        .expect(404);
      const big = await request(app)
        .post('/bulk-email')
        .set('Authorization', 'Bearer key-globex-456')
        .send(bulkBody(101, { from: 'a@globex.test' }))
        .expect(403);
      expect(big.body.error.message).toMatch(/at most 100/);
      const cooling = await request(app)
        .post('/bulk-email')
        .set('Authorization', acme)
        .send({ ...bulkBody(1, { from: 'news@acme.test' }), ConfigurationSetName: 'blocked' })
        .expect(429);
      expect(cooling.headers['retry-after']).toBe('60');
    } finally {
      await close();
    }
  });

  it('templates-from-folder: a named template is filled in from the folder; an unknown one is 422', async () => {
    const { app, close } = folderApp({ ses: ses.client(), sendRate: 200 });
    try {
      const body = bulkBody(2, {
        template: { TemplateName: 'welcome', TemplateData: JSON.stringify({ name: 'x', team: 'Acme' }) },
      });
      const res = await request(app).post('/bulk-email').set('Prefer', 'wait=20').send(body).expect(200);
      expect(res.body.data.counts.sent).toBe(2);
      const subjects = (await ses.emails()).map((e) => e.subject).sort();
      expect(subjects).toEqual(['Welcome aboard, User 0', 'Welcome aboard, User 1']);
      const missing = bulkBody(1, { template: { TemplateName: 'nope' } });
      const r = await request(app).post('/bulk-email').send(missing).expect(422);
      expect(r.body.error.code).toBe('TEMPLATE_NOT_FOUND');
    } finally {
      await close();
    }
  });

  it('ses-events: signed sample events show in results, fill the list, and the admin route resumes a tenant', async () => {
    const auth = createTestAuthority();
    const { app, close } = sesEventsApp({
      ses: ses.client(),
      sendRate: 200,
      topicArns: [TOPIC_ARN],
      fetchCertificate: async () => auth.certPem,
      adminToken: 'admin-secret',
    });
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const baseUrl = `http://127.0.0.1:${port}/bulk-email`;
      const key = { 'x-api-key': 'key-acme' };
      const job = await request(app)
        .post('/bulk-email')
        .set(key)
        .set('Prefer', 'wait=20')
        .send(bulkBody(3))
        .expect(200);
      const signer = { keyPem: auth.keyPem, topicArn: TOPIC_ARN, certUrl: CERT_URL };
      expect(await postSampleEvents(baseUrl, job.body.data.id, key, signer)).toEqual([200, 200, 200]);
      const results = await request(app).get(`/bulk-email/${job.body.data.id}/results`).set(key).expect(200);
      expect(results.body.data.results.map((r: { delivery: { status: string } }) => r.delivery.status)).toEqual([
        'DELIVERED',
        'BOUNCED',
        'COMPLAINED',
      ]);
      const list = await request(app).get('/bulk-email/suppressions').set(key).expect(200);
      expect(list.body.data.suppressions.map((s: { reason: string }) => s.reason)).toEqual(['BOUNCE', 'COMPLAINT']);
      await request(app).post('/admin/principals/acme/resume').expect(401);
      const resumed = await request(app)
        .post('/admin/principals/acme/resume')
        .set('Authorization', 'Bearer admin-secret')
        .expect(200);
      expect(resumed.body.data).toEqual({ wasPaused: false, jobIds: [] });
    } finally {
      server.close();
      await close();
    }
  });

  it('dashboard: the session cookie from /login opens the dashboard and the API; nothing without it', async () => {
    const { app, close } = dashboardApp({ ses: ses.client(), sendRate: 200, sessionSecret: 'test-secret' });
    try {
      await request(app).get('/bulk-email/dashboard').expect(401);
      await request(app).post('/login').type('form').send({ user: 'alice', password: 'nope' }).expect(401);
      const login = await request(app).post('/login').type('form').send({ user: 'alice', password: 'alice-password' });
      expect(login.status).toBe(303);
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      const page = await request(app).get('/bulk-email/dashboard').set('Cookie', cookie).expect(200);
      expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'/);
      const job = await request(app)
        .post('/bulk-email')
        .set('Cookie', cookie)
        .set('Prefer', 'wait=20')
        .send(bulkBody(5))
        .expect(200);
      const list = await request(app).get('/bulk-email').set('Cookie', cookie).expect(200);
      expect(list.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([job.body.data.id]);
      // Another user's session sees none of alice's jobs; a forged cookie is no session.
      const bob = await request(app).post('/login').type('form').send({ user: 'bob', password: 'bob-password' });
      const bobCookie = String(bob.headers['set-cookie']).split(';')[0];
      expect((await request(app).get('/bulk-email').set('Cookie', bobCookie).expect(200)).body.data.jobs).toEqual([]);
      await request(app).get('/bulk-email').set('Cookie', 'session=alice.forged').expect(401);
    } finally {
      await close();
    }
  });
});
