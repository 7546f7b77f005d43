// `npm test`: runs every suite with Vitest, says which suites were skipped and why, and ends with "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'ebe-test-'));
const report = join(dir, 'report.json');
if (!process.env.REDIS_URL) {
  console.log('Skipping the Redis suites (test/integ/**, Redis parts of test/bench): REDIS_URL is not set.');
  console.log('  Run them with: REDIS_URL=redis://127.0.0.1:6379 npm test');
}
const extra = process.argv.slice(2);
// Two phases: the bulk of the suites in parallel, then the timing-sensitive ones alone so that nothing competes with them.
const phases = extra.length
  ? [extra]
  : [
      ['--project', 'express5', '--project', 'express4'],
      ['--project', 'timing'],
    ];

let passed = 0;
let failed = 0;
let skipped = 0;
let exitFailed = false;
for (const phase of phases) {
  const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...phase];
  const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
  if (run.status !== 0) exitFailed = true;
  count();
}

function count() {
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    const skippedFiles = new Map();
    for (const file of json.testResults ?? []) {
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'passed') passed += 1;
        else if (t.status === 'failed') failed += 1;
        else {
          skipped += 1;
          skippedFiles.set(file.name, (skippedFiles.get(file.name) ?? 0) + 1);
        }
      }
      if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') failed += 1; // a file that failed to load
    }
    for (const [name, n] of skippedFiles)
      console.log(`skipped ${n} test(s) in ${name.replace(`${process.cwd()}/`, '')}`);
  } catch (err) {
    console.error(`could not read the test report: ${err.message}`);
    failed += 1;
  }
  rmSync(report, { force: true });
}
rmSync(dir, { recursive: true, force: true });
if (exitFailed && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
