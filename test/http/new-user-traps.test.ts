// Issue 11's traps for a new user on the accept side: a missing From, a template folder that does not exist, and
// express.json() mounted in front of the router. (Prefer: wait that runs out: test/http/cancel-wait.test.ts.)
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { folderTemplates } from '../../src/index.js';
import type { Logger } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

describe('new-user traps', () => {
  let h: HttpApp | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    vi.restoreAllMocks();
  });

  it('a body without FromEmailAddress → 400 naming /FromEmailAddress, nothing sent', async () => {
    h = httpApp();
    const { FromEmailAddress: _from, ...body } = bulkBody(2);
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([
      { path: '/FromEmailAddress', message: 'required field "FromEmailAddress" is missing' },
    ]);
    expect(h.calls).toHaveLength(0);
  });

  it("folderTemplates('./missing') is a TypeError when the router is built, saying where it looked", () => {
    expect(() => folderTemplates('./missing')).toThrow(TypeError);
    expect(() => folderTemplates('./missing')).toThrow(/missing does not exist .*working directory/);
    expect(() => folderTemplates('./package.json')).toThrow(/is not a folder/);
  });

  describe('express.json() mounted before the router', () => {
    function behindJsonParser(logger?: Logger) {
      h = httpApp(logger ? { logger } : {});
      const app = express();
      app.use(express.json({ limit: '1mb' }));
      app.use('/bulk-email', h.router);
      return app;
    }

    it('uses the parsed body and warns once on the console (no logger) how to mount the router', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const app = behindJsonParser();
      for (let i = 0; i < 3; i++) {
        const res = await request(app).post('/bulk-email').set('x-user', 'a').send(bulkBody(2)).expect(202);
        expect(res.body.data.entries).toBe(2);
      }
      const ours = warn.mock.calls.filter((call) => String(call[0]).includes('EBE_BODY_PARSED_ELSEWHERE'));
      expect(ours).toHaveLength(1);
      expect(String(ours[0][0])).toMatch(/Mount the router before the body parser/);
    });

    it('warns through the logger when there is one, once per router', async () => {
      const warn = vi.fn();
      const app = behindJsonParser({ debug() {}, info() {}, warn, error() {} });
      await request(app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(202);
      await request(app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(202);
      const ours = warn.mock.calls.filter((call) => call[0]?.code === 'EBE_BODY_PARSED_ELSEWHERE');
      expect(ours).toHaveLength(1);
    });

    it('mounted first, the router reads the body itself and warns nothing', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      h = httpApp();
      const app = express();
      app.use('/bulk-email', h.router);
      app.use(express.json());
      await request(app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(202);
      expect(warn.mock.calls.filter((call) => String(call[0]).includes('EBE_BODY_PARSED_ELSEWHERE'))).toEqual([]);
    });
  });
});
