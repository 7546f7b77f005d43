// Replays the regression corpus (test/fuzz/corpus/*.json) on every run: each case against a fresh router.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from './corpus.js';
import { crashWatch, expectRefusal, prototypeGuard, startFuzzTarget } from './harness.js';
import { FUZZ_LIMITS } from './hostile-bodies.js';

describe('fuzz corpus replay', () => {
  const guard = prototypeGuard();
  let watch: ReturnType<typeof crashWatch>;
  beforeAll(() => {
    watch = crashWatch();
  });
  afterAll(() => {
    watch.stop();
  });

  const cases = loadCorpus();
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(10);
  });

  /** Sends the case to a fresh router and checks the answer and every invariant; throws on the first violation. */
  async function replay(c: (typeof cases)[number]): Promise<void> {
    const target = await startFuzzTarget(c.target === 'small' ? { ...FUZZ_LIMITS } : {});
    try {
      const { method = 'POST', path = '', query } = c.request;
      const reply =
        method === 'POST' && path === ''
          ? await target.post(c.body, c.headers, query)
          : await target.request(
              method,
              `/bulk-email${path}${query ? `?${query}` : ''}`,
              c.body.length ? c.body : undefined,
              c.headers,
            );
      const allowed = c.expect.status === undefined ? undefined : ([] as number[]).concat(c.expect.status);
      if (allowed) expect(allowed, `${reply.status} ${reply.text.slice(0, 300)}`).toContain(reply.status);
      if (reply.status >= 400 || !allowed) {
        const { details } = expectRefusal(reply, c.expect.codes);
        if (c.expect.paths) {
          const paths = ((details ?? []) as { path: string }[]).map((d) => d.path);
          expect(
            paths.some((p) => c.expect.paths?.includes(p)),
            `paths ${paths.join(', ')}`,
          ).toBe(true);
        }
      }
      expect(target.spied.createJob, 'jobs created').toBe(0);
      expect(target.spied.claimIdempotency, 'idempotency keys claimed').toBe(0);
      expect(target.h.calls, 'SES calls').toHaveLength(0);
      expect((await target.get('/bulk-email/openapi.json')).status).toBe(200);
      guard.check();
      expect(watch.errors).toEqual([]);
    } finally {
      await target.close();
    }
  }

  for (const c of cases) {
    if (!c.knownBug || process.env.FUZZ_SHOW_BUGS) {
      it(`${c.name}: ${c.description}`, () => replay(c));
      continue;
    }
    // A known bug is replayed too, and must still show: once it is fixed, this fails and says which field to delete.
    it(`${c.name} [KNOWN BUG: ${c.knownBug}]`, async () => {
      let fixed = true;
      try {
        await replay(c);
      } catch {
        fixed = false;
      }
      if (fixed) {
        throw new Error(
          `test/fuzz/corpus/${c.name}.json now passes: the bug is fixed. Delete its "knownBug" field so it is checked as a regression.`,
        );
      }
    });
  }
});
