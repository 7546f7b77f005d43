// Property: 10,000+ hostile POST / requests (seeded) each get a 4xx envelope; no job, no SES call, no crash, no pollution.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/validator.js';
import { bulkBody } from '../helpers/bodies.js';
import {
  crashWatch,
  expectRefusal,
  type FuzzTarget,
  PRINCIPAL,
  prototypeGuard,
  type Reply,
  startFuzzTarget,
} from './harness.js';
import {
  corpusEntry,
  FUZZ_LIMITS,
  type FuzzCase,
  hostilePath,
  hostileRequest,
  hostileTemplate,
  validBody,
} from './hostile-bodies.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Schema-valid bodies with hostile templates, sent as dry runs (on top of RUNS). */
const TEMPLATE_RUNS = Math.ceil(RUNS / 20);
/** Requests with hostile methods, ids and query strings (on top of RUNS). */
const PATH_RUNS = Math.ceil(RUNS / 10);

describe('fuzz: hostile requests to POST /', () => {
  const validate = createValidator({ maxEntries: FUZZ_LIMITS.maxEntries });
  const guard = prototypeGuard();
  let target: FuzzTarget;
  let watch: ReturnType<typeof crashWatch>;
  let total = 0;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${RUNS} + ${TEMPLATE_RUNS} runs (FUZZ_RUNS=…)`);
    target = await startFuzzTarget({ ...FUZZ_LIMITS });
    watch = crashWatch();
  });
  afterAll(async () => {
    watch.stop();
    await target.close();
    console.log(`fuzz: ${total} hostile requests sent in this file`);
  });

  it('the generator starts from bodies the validator accepts (so each mutation is what breaks them)', () => {
    fc.assert(
      fc.property(validBody, (body) => {
        expect(validate(body)).toEqual([]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  let oracleTick = 0;
  function check(c: FuzzCase, reply: Reply, before: { jobs: number; claims: number; calls: number }): void {
    if (c.mayAccept && reply.status === 200) {
      expect((reply.json as { success?: boolean }).success).toBe(true);
    } else {
      const { code, details } = expectRefusal(reply, c.codes);
      if (code === 'VALIDATION_ERROR') {
        const list = details as { path: string; message: string }[];
        expect(Array.isArray(list) && list.length > 0).toBe(true);
        for (const d of list) {
          expect(typeof d.message).toBe('string');
          expect(d.path === '' || d.path.startsWith('/'), d.path).toBe(true);
        }
        // The HTTP answer is the validator's, detail for detail (checked on every third body under 100 kB, to keep the
        // run short: the validator is the server's own code, this checks the HTTP layer passes its answer through).
        if (c.exactText !== undefined && c.exactText.length < 100_000 && oracleTick++ % 3 === 0)
          expect(list).toEqual(validate(JSON.parse(c.exactText)));
        // The last mutation's own problem is among them (unless the list was cut at 100).
        const truncated = list.some((d) => / more problems? not listed/.test(d.message));
        if (c.paths && !truncated) {
          expect(
            list.some((d) => c.paths?.includes(d.path)),
            `expected a detail at ${c.paths.join(' or ')}, got ${list.map((d) => d.path).join(', ')}`,
          ).toBe(true);
        }
      }
    }
    // Nothing was stored, queued or sent; the idempotency store was not touched.
    expect(target.spied.createJob - before.jobs, 'jobs created').toBe(0);
    expect(target.spied.claimIdempotency - before.claims, 'idempotency keys claimed').toBe(0);
    expect(target.h.calls.length - before.calls, 'SES calls').toBe(0);
    guard.check();
    expect(watch.errors).toEqual([]);
  }

  const counters = () => ({
    jobs: target.spied.createJob,
    claims: target.spied.claimIdempotency,
    calls: target.h.calls.length,
  });

  /** Runs the property; on failure, writes the shrunk case as a corpus file and fails with a short message. */
  async function fuzz(name: string, arbitrary: fc.Arbitrary<FuzzCase>, numRuns: number, query = '') {
    const kinds = new Map<string, number>();
    let cases = 0;
    const started = performance.now();
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (c) => {
        cases += 1;
        for (const k of new Set(c.kinds.map((k) => k.replace(/^(gzip|deflate|br)-bomb$/, 'compression-bomb')))) {
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
        const before = counters();
        check(c, await target.post(c.body, c.headers, query), before);
        if (cases % 500 === 0) expect((await target.get('/bulk-email/openapi.json')).status).toBe(200);
      }),
      { seed: SEED, numRuns },
    );
    total += cases;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz ${name}: ${cases} requests in ${seconds} s; ${[...kinds]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    if (details.failed) {
      const c = details.counterexample?.[0] as FuzzCase;
      const file = join(tmpdir(), `fuzz-${SEED}-${Date.now()}.json`);
      writeFileSync(file, corpusEntry(c, SEED));
      const why =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `${name}: property failed after ${details.numRuns} runs (seed ${SEED}, path "${details.counterexamplePath}", ` +
          `shrunk ${details.numShrinks} times): ${c.kinds.join(', ')}; ${c.body.length} bytes, headers ${JSON.stringify(c.headers)}\n` +
          `${why.slice(0, 1500)}\nThe case is in ${file}; copy it to test/fuzz/corpus/ to replay it on every run.`,
      );
    }
    return kinds;
  }

  it(`${RUNS} hostile requests: each a 4xx envelope with a known code, nothing created, sent or polluted`, async () => {
    const kinds = await fuzz('bodies', hostileRequest, RUNS);
    // Every family of hostile input was exercised (at the default run count).
    if (RUNS >= 10_000) {
      const families = [
        'wrong-type',
        'drop-required',
        'extra-key',
        'over-long',
        'control-char',
        'invalid-utf8',
        'deep-nesting',
        'too-many-entries',
        'too-many-to',
        'semantic-two-sources',
        'semantic-base64',
        'not-an-object',
        'random-object',
        'junk-text',
        'junk-bytes',
        'truncated',
        'invalid-utf8-structural',
        'media-type',
        'idempotency-key',
        'compression-bomb',
        'gzip',
        'br',
        'noise-huge-text',
        'noise-invalid-utf8-text',
      ];
      for (const family of families) expect(kinds.get(family) ?? 0, family).toBeGreaterThanOrEqual(3);
    }
    // A correctness run, not a timed one: ~30 s alone, several times that on a loaded 2-core machine.
  }, 240_000);

  it(`${TEMPLATE_RUNS} hostile templates and template data (dry runs): 200 or 400, never 5xx, nothing stored`, async () => {
    await fuzz('templates', hostileTemplate, TEMPLATE_RUNS, 'dry_run=true');
  });

  it(`${PATH_RUNS} hostile methods, ids, paths and query strings: never a 5xx, never FORBIDDEN, always an envelope`, async () => {
    const accepted = await target.post(JSON.stringify(bulkBody(3)));
    expect(accepted.status).toBe(202);
    const job = (accepted.json as { data: { id: string } }).data.id;
    const jobs = target.spied.createJob;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostilePath(job), async ({ method, path, who }) => {
        const reply = await target.request(method, path, undefined, { 'x-user': who });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const where = `${method} ${path} as ${who || 'nobody'}: ${reply.status} ${reply.text.slice(0, 200)}`;
        expect(reply.status, where).toBeLessThan(500);
        expect(reply.status, where).not.toBe(403);
        if (method === 'HEAD') return;
        expect(reply.contentType, where).toMatch(/^application\/json/);
        if (reply.status >= 400) expectRefusal(reply);
        else if (new URL(path, 'http://x').pathname.replace(/\/$/, '') === '/bulk-email/openapi.json') {
          expect((reply.json as { openapi?: string }).openapi, where).toBe('3.1.0'); // the document itself
        } else expect((reply.json as { success?: boolean }).success, where).toBe(true);
        // Only the owner ever sees the job.
        if (reply.status < 400 && path.includes(job)) expect(who, where).toBe(PRINCIPAL);
      }),
      { seed: SEED, numRuns: PATH_RUNS },
    );
    total += PATH_RUNS;
    console.log(`fuzz paths: ${PATH_RUNS} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(target.spied.createJob).toBe(jobs);
    guard.check();
    expect(watch.errors).toEqual([]);
  });

  it('stays healthy afterwards: GETs answer, a valid body is accepted, nothing else is active', async () => {
    expect((await target.get('/bulk-email/openapi.json')).status).toBe(200);
    expect((await target.get('/bulk-email/no-such-job')).status).toBe(404);
    expect(await target.store.countActiveJobs(PRINCIPAL)).toBe(0);
    const before = target.spied.createJob;
    const accepted = await target.post(JSON.stringify(bulkBody(3)));
    expect(accepted.status, accepted.text).toBe(202);
    expect(target.spied.createJob).toBe(before + 1);
    expect((await target.get(`/bulk-email/${(accepted.json as { data: { id: string } }).data.id}`)).status).toBe(200);
    guard.check();
    expect(watch.errors).toEqual([]);
  });
});
