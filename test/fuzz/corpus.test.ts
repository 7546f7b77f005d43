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

  for (const c of cases) {
    // A known bug is replayed too: the check must fail until the bug is fixed (then drop `knownBug` from the file).
    const test = c.knownBug && !process.env.FUZZ_SHOW_BUGS ? it.fails : it;
    test(`${c.name}: ${c.description}${c.knownBug ? ` [KNOWN BUG: ${c.knownBug}]` : ''}`, async () => {
      const target = await startFuzzTarget(c.target === 'small' ? { ...FUZZ_LIMITS } : {});
      try {
        const reply = await target.post(c.body, c.headers, c.request.query);
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
    });
  }
});
