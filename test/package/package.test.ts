// The package as a user gets it: npm pack, install the tarball, then import, require and type-check both entry points.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Tarballs by content hash of what goes into the build: packing (tsup with declarations) runs once per change. */
const CACHE = join(ROOT, 'node_modules/.cache/express-bulk-email-package-test');
const BUILD_INPUTS = ['package.json', 'tsup.config.ts', 'tsconfig.json', 'README.md', 'src'];
const MAIN_EXPORTS = [
  'bulkEmail',
  'createWorker',
  'allowAnonymous',
  'validationError',
  'forbidden',
  'templateNotFound',
  'rateLimited',
  'memoryStore',
  'staticTemplates',
  'folderTemplates',
];
const REDIS_EXPORTS = ['redisStore', 'redisQueue', 'bullmqQueue'];
const TESTING_EXPORTS = [
  'describeStoreContract',
  'describeFeedbackContract',
  'describeQueueContract',
  'describePacingContract',
  'describeWebhookOutboxContract',
  'jobRecord',
];
const NODE_ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_OPTIONS: '' };

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((f) => files(join(path, f)));
}

function buildHash(): string {
  const hash = createHash('sha256');
  for (const file of BUILD_INPUTS.flatMap((p) => files(join(ROOT, p)))) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** `npm pack` (its prepack script builds) in a copy of the sources, so the repo's own dist/ is never touched. */
function pack(): { tarball: string; packed: boolean } {
  const tarball = join(CACHE, `express-bulk-email-${buildHash()}.tgz`);
  if (existsSync(tarball)) return { tarball, packed: false };
  const work = mkdtempSync(join(tmpdir(), 'ebe-pack-'));
  try {
    for (const p of BUILD_INPUTS)
      if (existsSync(join(ROOT, p))) cpSync(join(ROOT, p), join(work, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
      cwd: work,
      env: NODE_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n')
      .at(-1) as string;
    mkdirSync(CACHE, { recursive: true });
    for (const old of readdirSync(CACHE)) rmSync(join(CACHE, old), { force: true });
    cpSync(join(work, name), tarball);
    return { tarball, packed: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Installs the tarball and the peers from npm's cache (offline), falling back to the registry. */
function install(dir: string, tarball: string): 'offline' | 'online' {
  const peers = ['express@^5', '@aws-sdk/client-sesv2@^3', 'ioredis@^5', '@types/express@^5', '@types/node@^22'];
  const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball, ...peers];
  const offline = spawnSync('npm', [...args, '--offline'], { cwd: dir, env: NODE_ENV, encoding: 'utf8' });
  if (offline.status === 0) return 'offline';
  const online = spawnSync('npm', [...args, '--prefer-offline'], { cwd: dir, env: NODE_ENV, encoding: 'utf8' });
  if (online.status !== 0) throw new Error(`npm install failed:\n${offline.stderr}\n${online.stderr}`);
  return 'online';
}

function node(dir: string, file: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [file], { cwd: dir, env: NODE_ENV, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs a script in the consumer folder and returns the JSON it printed last. */
function runJson(dir: string, name: string, source: string): Record<string, unknown> {
  writeFileSync(join(dir, name), source);
  const out = node(dir, name);
  expect(out.status, `${name} failed:\n${out.stderr}\n${out.stdout}`).toBe(0);
  return JSON.parse(out.stdout.trim().split('\n').at(-1) as string);
}

const PROBE = `
  const report = {};
  const describe = (mod, names) => Object.fromEntries(names.map((n) => [n, typeof mod[n]]));
  // A stand-in test runner that only registers: how many tests each contract suite declares from the built entry.
  const registered = (testing, main) => {
    const names = [];
    const t = {
      describe: (_name, fn) => fn(),
      it: (name) => names.push(name),
      expect: Object.assign(() => ({}), { any: () => ({}) }),
      beforeEach: () => undefined,
      afterEach: () => undefined,
    };
    testing.describeStoreContract(t, 'memory', () => main.memoryStore());
    testing.describeFeedbackContract(t, 'memory', () => main.memoryStore());
    testing.describeQueueContract(t, 'in-process', () => main.inProcessQueue());
    testing.describePacingContract(t, 'in-process', () => main.inProcessQueue());
    return names.length;
  };
`;

describe('the packed package, installed in a fresh folder', () => {
  let dir: string;
  let timings: string[];
  beforeAll(() => {
    timings = [];
    let t = performance.now();
    const { tarball, packed } = pack();
    timings.push(`${packed ? 'npm pack (build)' : 'tarball from cache'} ${Math.round(performance.now() - t)} ms`);
    dir = mkdtempSync(join(tmpdir(), 'ebe-consumer-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    t = performance.now();
    const how = install(dir, tarball);
    timings.push(`npm install (${how}) ${Math.round(performance.now() - t)} ms`);
  }, 180_000);
  afterAll(() => {
    console.log(`package test: ${timings.join(', ')}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only the build and the README, with both entry points and their types for each condition', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/express-bulk-email/package.json'), 'utf8'));
    const shipped = files(join(dir, 'node_modules/express-bulk-email')).map((f) =>
      relative(join(dir, 'node_modules/express-bulk-email'), f),
    );
    expect(shipped.filter((f) => !/^(dist\/|README\.md$|package\.json$|LICENSE)/.test(f))).toEqual([]);
    for (const entry of ['.', './redis', './testing']) {
      for (const condition of ['import', 'require']) {
        const target = pkg.exports[entry][condition];
        expect(
          existsSync(join(dir, 'node_modules/express-bulk-email', target.types)),
          `${entry} ${condition} types`,
        ).toBe(true);
        expect(
          existsSync(join(dir, 'node_modules/express-bulk-email', target.default)),
          `${entry} ${condition} code`,
        ).toBe(true);
      }
    }
  });

  it('import (ESM): every export of both entries; the main entry does not load ioredis', () => {
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `let port;
       export async function initialize(data) { port = data.port; }
       export async function resolve(specifier, context, next) {
         const out = await next(specifier, context);
         port.postMessage(out.url);
         return out;
       }`,
    );
    const report = runJson(
      dir,
      'esm.mjs',
      `${PROBE}
      import { createRequire, register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const resolved = [];
      port1.on('message', (url) => resolved.push(url));
      register('./hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
      const settle = () => new Promise((r) => setTimeout(r, 100));
      // ioredis comes in through require (stores/ioredis-peer.ts), so look in the CJS cache too.
      const cache = createRequire(import.meta.url).cache;
      const optional = () =>
        resolved.filter((u) => /node_modules\\/ioredis\\//.test(u)).length +
        Object.keys(cache).filter((f) => /node_modules[\\\\/]ioredis[\\\\/]/.test(f)).length;
      const main = await import('express-bulk-email');
      await settle();
      report.main = describe(main, ${JSON.stringify(MAIN_EXPORTS)});
      report.optionalAfterMain = optional();
      report.mainFile = resolved.find((u) => u.includes('express-bulk-email/dist/'));
      const testing = await import('express-bulk-email/testing');
      await settle();
      report.testing = describe(testing, ${JSON.stringify(TESTING_EXPORTS)});
      report.testingFile = resolved.find((u) => u.includes('express-bulk-email/dist/testing'));
      report.testsRegistered = registered(testing, main);
      report.optionalAfterTesting = optional();
      const redis = await import('express-bulk-email/redis');
      await settle();
      report.redis = describe(redis, ${JSON.stringify(REDIS_EXPORTS)});
      report.optionalAfterRedis = optional();
      port1.close();
      console.log(JSON.stringify(report));`,
    );
    expect(report.main).toEqual(Object.fromEntries(MAIN_EXPORTS.map((n) => [n, 'function'])));
    expect(report.redis).toEqual(Object.fromEntries(REDIS_EXPORTS.map((n) => [n, 'function'])));
    expect(report.mainFile).toMatch(/dist\/index\.js$/);
    expect(report.optionalAfterMain).toBe(0);
    expect(report.testing).toEqual(Object.fromEntries(TESTING_EXPORTS.map((n) => [n, 'function'])));
    expect(report.testingFile).toMatch(/dist\/testing\.js$/);
    expect(report.testsRegistered).toBeGreaterThan(50);
    expect(report.optionalAfterTesting).toBe(0);
    // The probe works: the redis entry does load them.
    expect(report.optionalAfterRedis).toBeGreaterThan(0);
  });

  it('require (CJS): every export of both entries; the main entry does not load ioredis', () => {
    const report = runJson(
      dir,
      'cjs.cjs',
      `${PROBE}
      const optional = () => Object.keys(require.cache).filter((f) => /node_modules[\\\\/]ioredis[\\\\/]/.test(f)).length;
      const main = require('express-bulk-email');
      report.main = describe(main, ${JSON.stringify(MAIN_EXPORTS)});
      report.mainFile = require.resolve('express-bulk-email');
      report.optionalAfterMain = optional();
      const testing = require('express-bulk-email/testing');
      report.testing = describe(testing, ${JSON.stringify(TESTING_EXPORTS)});
      report.testingFile = require.resolve('express-bulk-email/testing');
      report.testsRegistered = registered(testing, main);
      const redis = require('express-bulk-email/redis');
      report.redis = describe(redis, ${JSON.stringify(REDIS_EXPORTS)});
      report.optionalAfterRedis = optional();
      console.log(JSON.stringify(report));`,
    );
    expect(report.main).toEqual(Object.fromEntries(MAIN_EXPORTS.map((n) => [n, 'function'])));
    expect(report.redis).toEqual(Object.fromEntries(REDIS_EXPORTS.map((n) => [n, 'function'])));
    expect(report.mainFile).toMatch(/dist\/index\.cjs$/);
    expect(report.optionalAfterMain).toBe(0);
    expect(report.testing).toEqual(Object.fromEntries(TESTING_EXPORTS.map((n) => [n, 'function'])));
    expect(report.testingFile).toMatch(/dist\/testing\.cjs$/);
    expect(report.testsRegistered).toBeGreaterThan(50);
    expect(report.optionalAfterRedis).toBeGreaterThan(0);
  });

  it('without ioredis installed, both entries of ./redis say which package to install', () => {
    const installed = join(dir, 'node_modules/ioredis');
    const aside = join(dir, 'node_modules/.ioredis-aside');
    renameSync(installed, aside);
    try {
      const report = runJson(
        dir,
        'no-ioredis.mjs',
        `import { createRequire } from 'node:module';
        const report = {};
        try { createRequire(import.meta.url)('express-bulk-email/redis'); } catch (err) { report.require = err.message; }
        try { await import('express-bulk-email/redis'); } catch (err) { report.import = err.message; }
        report.main = typeof (await import('express-bulk-email')).bulkEmail;
        console.log(JSON.stringify(report));`,
      );
      expect(report.require).toMatch(/needs the optional peer dependency ioredis.*npm install ioredis/);
      expect(report.import).toMatch(/needs the optional peer dependency ioredis.*npm install ioredis/);
      expect(report.main).toBe('function');
    } finally {
      renameSync(aside, installed);
    }
  });

  it('works from both builds in one process: a router answers, and errors made by one build are known to the other', () => {
    const report = runJson(
      dir,
      'dual.cjs',
      `(async () => {
        const cjs = require('express-bulk-email');
        const esm = await import('express-bulk-email');
        const express = require('express');
        const report = { sameFunction: cjs.bulkEmail === esm.bulkEmail };
        report.crossBrand = esm.isBulkEmailError(cjs.forbidden('x')) && cjs.isBulkEmailError(esm.rateLimited(3));
        report.answers = [];
        for (const mod of [cjs, esm]) {
          const router = mod.bulkEmail({
            ses: { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } },
            authenticate: mod.allowAnonymous(),
            sendRate: 10,
            resolveTemplate: mod.staticTemplates({ hello: { Subject: 'Hi', Text: 'Hello' } }),
          });
          const app = express().use('/bulk-email', router);
          const server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
          const base = 'http://127.0.0.1:' + server.address().port + '/bulk-email';
          const doc = await fetch(base + '/openapi.json');
          const dry = await fetch(base + '?dry_run=true', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ FromEmailAddress: 'a@example.com', DefaultContent: { Template: { TemplateName: 'hello' } }, BulkEmailEntries: [{ Destination: { ToAddresses: ['b@example.com'] } }] }),
          });
          const bad = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"FromEmailAdress":1}' });
          report.answers.push([doc.status, dry.status, (await dry.json()).data?.dry_run, bad.status, (await bad.json()).error?.code]);
          server.close();
          await router.close();
        }
        console.log(JSON.stringify(report));
      })().catch((err) => { console.error(err); process.exit(1); });`,
    );
    expect(report.sameFunction).toBe(false);
    expect(report.crossBrand).toBe(true);
    expect(report.answers).toEqual([
      [200, 200, true, 400, 'VALIDATION_ERROR'],
      [200, 200, true, 400, 'VALIDATION_ERROR'],
    ]);
  });

  it('type-checks a consumer with tsc: module nodenext as ESM (.mts) and as CommonJS (.cts), declarations included', () => {
    const consumer = (kind: 'esm' | 'cjs') => `
      import express from 'express';
      import { SESv2Client } from '@aws-sdk/client-sesv2';
      import {
        allowAnonymous, bulkEmail, createWorker, folderTemplates, forbidden, inProcessQueue, memoryStore, rateLimited,
        staticTemplates, templateNotFound, validationError,
        type BulkEmailOptions, type BulkEmailRouter, type StoredJob, type Principal, type Queue, type Store, type Worker,
        type Envelope, type JobView, type ResultsPage,
      } from 'express-bulk-email';
      import { bullmqQueue, redisQueue, redisStore } from 'express-bulk-email/redis';
      import { describeStoreContract, describePacingContract, type TestApi } from 'express-bulk-email/testing';

      interface Member extends Principal { role: 'admin' | 'user' }
      const options: BulkEmailOptions<Member> = {
        ses: new SESv2Client({ region: 'us-east-1' }),
        authenticate: async (req) => ({ id: req.get('authorization') ?? 'x', role: 'user' }),
        authorize: ({ principal }) => principal.role === 'admin',
        senders: (principal) => (principal.role === 'admin' ? null : ['@example.com']),
        validate: (request) => {
          if (!request.FromEmailAddress) throw validationError([{ path: '/FromEmailAddress', message: 'required' }]);
          if (request.BulkEmailEntries.length > 5000) throw rateLimited(60);
        },
        resolveTemplate: (template) => {
          if (template.TemplateName === 'gone') throw templateNotFound('gone');
          if (template.TemplateName === 'secret') throw forbidden();
          return template;
        },
        suppress: (addresses) => addresses.filter((a) => a.endsWith('@bounced.example')),
        sendRate: 'account',
        retry: { attempts: 4 },
      };
      const router: BulkEmailRouter = bulkEmail(options);
      const app = express();
      app.use('/bulk-email', router);
      const store: Store = memoryStore();
      const worker: Worker = createWorker({ ses: { region: 'us-east-1' }, store, queue: inProcessQueue() });
      const shared: Store = redisStore({ connection: 'redis://127.0.0.1:6379' });
      const scaled: Worker = createWorker({ ses: { region: 'us-east-1' }, store: shared, queue: redisQueue({ connection: { host: 'redis', port: 6379 } }) });
      const renamed: Queue = bullmqQueue({ connection: 'redis://127.0.0.1:6379', name: 'old-app' });
      const templates = [staticTemplates({ hello: { Subject: 'Hi', Text: 'Hello' } }), folderTemplates('./templates')];
      const job: Promise<StoredJob | null> = store.getJob('id');
      // A client of the HTTP API reads snake_case answers.
      const answer = JSON.parse('{}') as Envelope<JobView>;
      const created: string | undefined = answer.success ? answer.data.created_at : answer.error.message;
      const page = JSON.parse('{}') as Envelope<ResultsPage>;
      const cursor: string | null = page.success ? page.data.next_cursor : null;
      bulkEmail({ authenticate: allowAnonymous() });
      // Another driver's author runs the contract suites with their runner's functions.
      const runner = {} as TestApi;
      describeStoreContract(runner, 'mine', () => memoryStore());
      describePacingContract(runner, 'mine', () => inProcessQueue());
      // @ts-expect-error the suites take the runner's functions first
      describeStoreContract('mine', () => memoryStore());
      // The types are real, not any: each of these must be an error.
      // @ts-expect-error authenticate is required
      bulkEmail({});
      // @ts-expect-error unknown SES field in a request
      const typo: BulkEmailOptions['validate'] = (request) => request.FromEmailAdress;
      // @ts-expect-error a principal needs a string id
      const nobody: Principal = { id: 7 };
      // @ts-expect-error not a number
      const n: number = router;
      // @ts-expect-error the store's camelCase record is not an HTTP answer
      type Stored = Envelope<StoredJob>;
      // @ts-expect-error answers are snake_case
      const camel = answer.success && answer.data.createdAt;
      export type { Stored };
      export { app, worker, shared, templates, job, typo, nobody, n, created, cursor, camel, ${kind === 'esm' ? 'options' : 'options as cjsOptions'} };
    `;
    writeFileSync(join(dir, 'consumer.mts'), consumer('esm'));
    writeFileSync(join(dir, 'consumer.cts'), consumer('cjs'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          esModuleInterop: true,
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFiles'],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS'));
    // Third-party declaration noise would not be ours; every error must be from the consumer or the package.
    expect(errors, tsc.stdout.slice(0, 3000)).toEqual([]);
    expect(tsc.status, tsc.stdout.slice(0, 3000)).toBe(0);
    // Each condition's own declarations were used.
    const listed = tsc.stdout.split('\n').filter((l) => l.includes('node_modules/express-bulk-email/dist/'));
    expect(listed.some((f) => f.endsWith('dist/index.d.ts'))).toBe(true);
    expect(listed.some((f) => f.endsWith('dist/index.d.cts'))).toBe(true);
    expect(listed.some((f) => f.endsWith('dist/redis.d.ts'))).toBe(true);
    expect(listed.some((f) => f.endsWith('dist/redis.d.cts'))).toBe(true);
    expect(listed.some((f) => f.endsWith('dist/testing.d.ts'))).toBe(true);
    expect(listed.some((f) => f.endsWith('dist/testing.d.cts'))).toBe(true);
  });

  /** tsc on a two-line consumer of both entries under other module settings; returns its errors. */
  function typeCheck(name: string, compilerOptions: Record<string, unknown>): string[] {
    writeFileSync(
      join(dir, `${name}.ts`),
      `import { bulkEmail, allowAnonymous, type BulkEmailRouter } from 'express-bulk-email';
       import { redisStore } from 'express-bulk-email/redis';
       import { describeQueueContract, type TestApi } from 'express-bulk-email/testing';
       export const suite = (t: TestApi) => describeQueueContract(t, 'mine', () => { throw new Error('unused'); });
       export const router: BulkEmailRouter = bulkEmail({ authenticate: allowAnonymous(), store: redisStore({ connection: 'redis://x' }) });`,
    );
    writeFileSync(
      join(dir, `tsconfig.${name}.json`),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          types: ['node'],
          esModuleInterop: true,
          skipLibCheck: true,
          ...compilerOptions,
        },
        files: [`${name}.ts`],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${name}.json`],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    return tsc.stdout.split('\n').filter((l) => l.includes('error TS'));
  }

  it('type-checks under moduleResolution bundler (module preserve)', () => {
    expect(typeCheck('bundler', { module: 'preserve', moduleResolution: 'bundler' })).toEqual([]);
  });

  // Classic `moduleResolution: node` (node10) ignores `exports`; package.json's `typesVersions` maps the subpath's types.
  it('type-checks under classic CommonJS settings (module commonjs, moduleResolution node10)', () => {
    expect(typeCheck('node10', { module: 'commonjs', moduleResolution: 'node10' })).toEqual([]);
  });
});
