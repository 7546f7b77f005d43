// Every invalid-body fixture, sent through HTTP: a 400 envelope naming each problem, no job, no SES call.
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInvalidFixtures, loadValidFixtures } from '../fixtures/load-fixtures.js';
import { memoryStore } from '../../src/index.js';
import { httpApp } from '../helpers/http-app.js';

describe('request validation through HTTP', () => {
  const store = memoryStore();
  const h = httpApp({ store });
  afterAll(async () => {
    await h.close();
    await store.close();
  });

  for (const fixture of loadInvalidFixtures()) {
    it(`${fixture.name}: ${fixture.description}`, async () => {
      const raw = typeof fixture.body === 'string' ? fixture.body : JSON.stringify(fixture.body);
      const res = await request(h.app)
        .post('/bulk-email')
        .set('x-user', 'a')
        .set('Content-Type', 'application/json')
        .send(raw);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      for (const want of fixture.expect) {
        expect(res.body.error.details).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ path: want.path, message: expect.stringContaining(want.message) }),
          ]),
        );
      }
      expect(h.calls).toHaveLength(0);
      expect(await store.countActiveJobs('a')).toBe(0);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  for (const fixture of loadValidFixtures()) {
    it(`accepts ${fixture.name}`, async () => {
      const res = await request(h.app).post('/bulk-email').set('x-user', 'v').send(fixture.body);
      expect(res.status).toBe(202);
      expect(await store.getJob(res.body.data.id)).not.toBeNull();
    });
  }
});
